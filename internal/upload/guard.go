package upload

import (
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// guardTransport works around golang/go#51907: net/http may go on reading
// a request body after RoundTrip has returned (the blob host answered 503
// or broke the connection before reading the whole block), while azcore's
// retry policy seeks that same body to send the block again. That is a data
// race on the block buffer, and a stale read could move the retry's
// position. Each attempt therefore reads through a guard that is shut
// when the attempt returns: a read still running finishes first, later
// ones fail, and only then does the retry seek.
type guardTransport struct{ next policy.Transporter }

func (g guardTransport) Do(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return g.next.Do(req)
	}
	body := &guardedBody{r: req.Body}
	attempt := req.Clone(req.Context())
	attempt.Body = body
	resp, err := g.next.Do(attempt)
	body.shut()
	return resp, err
}

var errAttemptOver = errors.New("upload: request body read after its attempt ended")

type guardedBody struct {
	mu   sync.Mutex
	r    io.ReadCloser
	done bool
}

func (b *guardedBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return 0, errAttemptOver
	}
	return b.r.Read(p)
}

// Close does not reach the body: azcore owns it and closes it after the
// last attempt.
func (b *guardedBody) Close() error { return nil }

func (b *guardedBody) shut() {
	b.mu.Lock()
	b.done = true
	b.mu.Unlock()
}
