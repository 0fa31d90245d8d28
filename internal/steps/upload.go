package steps

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/storeflight/storeflight/internal/redact"
	"github.com/storeflight/storeflight/internal/storeapi"
	"github.com/storeflight/storeflight/internal/upload"
)

// progressEvery is the least time between two progress lines.
const progressEvery = 5 * time.Second

// uploadStep streams one ZIP of the package files into the submission's
// fileUploadUrl.
type uploadStep struct{}

func (uploadStep) Name() string { return "upload" }

func (uploadStep) Skip(s *State) string {
	switch {
	case !s.cfg.WantsUpdate():
		return skipNoUpdate
	case len(s.cfg.Packages) == 0:
		return "no packages given"
	case s.sub != nil && s.Status != storeapi.StatusPendingCommit && s.Status != "":
		return skipCommittedEarlier
	}
	return ""
}

func (uploadStep) Run(ctx context.Context, s *State) error {
	files := make([]upload.File, len(s.cfg.Packages))
	var total int64
	s.Uploaded = s.Uploaded[:0]
	for i, p := range s.cfg.Packages {
		files[i] = upload.File{Path: p.Path, Name: p.ZIPName}
		fi, err := os.Stat(p.Path)
		if err != nil {
			return fmt.Errorf("package %s: %w", p.ZIPName, err)
		}
		total += fi.Size()
		s.Uploaded = append(s.Uploaded, UploadedFile{Name: p.ZIPName, Size: fi.Size()})
	}
	if s.dryRun() {
		s.plan("upload one ZIP of %d file(s), %s in all, to %s", len(files), sizeText(total), s.target())
		for _, f := range s.Uploaded {
			s.Plan = append(s.Plan, fmt.Sprintf("  %s (%s)", f.Name, sizeText(f.Size)))
		}
		return nil
	}
	sas := s.sub.uploadURL()
	if sas == "" {
		return errNoUploadURL(s)
	}
	maskSAS(s, sas)

	opts := upload.Options{}
	if s.upload.options != nil {
		opts = *s.upload.options
	}
	if s.upload.transport != nil {
		opts.Transport = s.upload.transport
	}
	start := s.clock.Now()
	var mu sync.Mutex
	meter := upload.NewMeter(start, progressEvery)
	opts.Progress = func(sent, all int64) {
		mu.Lock()
		defer mu.Unlock()
		if line := meter.Line(sent, all, s.clock.Now()); line != "" {
			s.rep.Infof("%s", line)
		}
	}
	// The step's group names the target.
	s.rep.Infof("uploading %s, %s", filesText(len(files)), sizeText(total))
	if _, err := upload.ZIP(ctx, sas, files, &opts); err != nil {
		return fmt.Errorf("upload packages of %s: %w%s", s.target(), redact.Error(err), uploadHint(err, sas, s.clock.Now()))
	}
	s.rep.Infof("uploaded %s, %s", filesText(len(files)), upload.FormatDone(total, s.clock.Now().Sub(start)))
	return nil
}

// uploadHint says what to do when the blob host refused the upload URL or
// its SAS expiry (se=) has passed: a re-run reads the submission again and
// gets a fresh URL, re-creating the run's own submission when the Store
// gives none (DESIGN, re-runs).
func uploadHint(err error, sas string, now time.Time) string {
	var be *upload.BlobError
	refused := errors.As(err, &be) && be.Refused()
	if u, perr := url.Parse(sas); perr == nil {
		if se, terr := time.Parse(time.RFC3339, u.Query().Get("se")); terr == nil && !now.Before(se) {
			refused = true
		}
	}
	if !refused {
		return ""
	}
	return "; the upload URL has expired or was refused: a re-run reads the submission again for a fresh one," +
		" and re-creates the submission when it is the run's own"
}

func filesText(n int) string {
	if n == 1 {
		return "1 file"
	}
	return fmt.Sprintf("%d files", n)
}

func errNoUploadURL(s *State) error {
	return fmt.Errorf("%s has no fileUploadUrl: it was most likely created in Partner Center, and the API can neither upload to nor change such a submission; delete it in Partner Center (or use pending-submission: replace) so that a new one is created", s.target())
}

// maskSAS hides the SAS signature and the whole URL in all later output:
// transport errors carry the full URL (LIBRARIES.md §4). The signature is
// masked as it is (a '+' kept: a query decoder would turn it into a space),
// URL-escaped, and as the URL carries it.
func maskSAS(s *State, sas string) {
	_, q, _ := strings.Cut(sas, "?")
	for kv := range strings.SplitSeq(q, "&") {
		raw, ok := strings.CutPrefix(kv, "sig=")
		if !ok || raw == "" {
			continue
		}
		s.rep.Mask(raw)
		if sig, err := url.PathUnescape(raw); err == nil {
			s.rep.Mask(sig)
			s.rep.Mask(url.QueryEscape(sig))
		}
	}
	s.rep.Mask(sas)
}

func sizeText(n int64) string { return upload.FormatSize(n) }
