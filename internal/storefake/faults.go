package storefake

import (
	"net/http"
	"strings"
)

// Fault scripts an answer for matching requests, ahead of the request
// budget, the token check and the handlers.
type Fault struct {
	Host   string // "" any; "api" or "blob" to match one endpoint only
	Method string // "" any
	// Path is matched as a suffix of the URL path, e.g. "/commit",
	// "/submissions", "/packagerollout"; "" any.
	Path  string
	Skip  int // let this many matching requests through first
	Times int // how many matching requests it hits; 0 = 1; -1 = every one
	// Status answers this status instead of handling, with the Store's
	// {code,message} body (Azure's XML error on the blob host).
	Status int
	// RetryAfter is the Retry-After header value as given.
	RetryAfter string
	// Body and ContentType answer a raw body instead (Status defaults to 200).
	Body, ContentType string
	// LoseResponse handles the request (the change is applied) and then
	// loses the answer: in process a transport error, on a listener a
	// connection closed without a response.
	LoseResponse bool
	// Reset breaks the connection without handling anything.
	Reset bool
}

type faultState struct {
	f          Fault
	seen, hits int
}

// Inject adds a fault. Faults are tried in the order injected; the first
// that matches and is due answers.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &faultState{f: f})
}

// matchFault returns the fault that answers r, if any. s.mu is held.
func (s *Server) matchFault(r *http.Request, isBlob bool) *Fault {
	for i, fs := range s.faults {
		f := fs.f
		if f.Host == "api" && isBlob || f.Host == "blob" && !isBlob {
			continue
		}
		if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
			continue
		}
		if f.Path != "" && !strings.HasSuffix(r.URL.Path, f.Path) {
			continue
		}
		fs.seen++
		if fs.seen <= f.Skip {
			continue
		}
		times := f.Times
		if times == 0 {
			times = 1
		}
		fs.hits++
		if times > 0 && fs.hits >= times {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		return &f
	}
	return nil
}

func (s *Server) writeFault(w http.ResponseWriter, f *Fault, isBlob bool) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	if f.Body != "" || f.ContentType != "" {
		if f.ContentType != "" {
			w.Header().Set("Content-Type", f.ContentType)
		}
		status := f.Status
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(f.Body))
		return
	}
	status := f.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	code := faultCode(status)
	msg := "Injected fault: " + http.StatusText(status) + "."
	if isBlob {
		s.writeBlobError(w, status, code, msg)
		return
	}
	writeJSON(w, status, apiError{Code: code, Message: msg})
}

func faultCode(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "TooManyRequests"
	case http.StatusServiceUnavailable:
		return "ServiceUnavailable"
	case http.StatusConflict:
		return "InvalidState"
	case http.StatusNotFound:
		return "ResourceNotFound"
	case http.StatusUnauthorized:
		return "Unauthorized"
	case http.StatusBadRequest:
		return "InvalidParameterValue"
	}
	if status >= 500 {
		return "ServiceError"
	}
	return "Other"
}

// Detail is an entry of statusDetails.errors or .warnings.
type Detail struct{ Code, Details string }

// Report is an entry of statusDetails.certificationReports.
type Report struct{ Date, ReportURL string }

// Failure scripts how the next committed submission fails.
type Failure struct {
	// At is the failure status: CommitFailed, PreProcessingFailed,
	// CertificationFailed, ReleaseFailed, PublishFailed, Canceled, or
	// "PendingCommit" for a fall back from CommitStarted.
	At       string
	Errors   []Detail
	Warnings []Detail
	Reports  []Report
}

// ScriptFailure makes the next committed submission fail at f.At with f's
// statusDetails. Several scripted failures apply to successive commits.
func (s *Server) ScriptFailure(f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, f)
}

// PackageDrop scripts pre-processing that discards uploaded packages while
// the submission goes on (a malformed upload file, XTimelineViewer #150):
// the dropped entries leave the package list, the packages the commit was
// to delete stay, and nothing in statusDetails says so.
type PackageDrop struct {
	// FileNames are the packages dropped; empty for every package the
	// commit uploaded.
	FileNames []string
}

// ScriptPackageDrop makes the pre-processing of the next committed
// submission drop packages as d says. Several apply to successive commits.
func (s *Server) ScriptPackageDrop(d PackageDrop) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drops = append(s.drops, &d)
}
