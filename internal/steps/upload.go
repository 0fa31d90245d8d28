package steps

import (
	"context"
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
	last := start
	opts.Progress = func(sent, all int64) {
		mu.Lock()
		defer mu.Unlock()
		now := s.clock.Now()
		if sent >= all || now.Sub(last) < progressEvery {
			return
		}
		last = now
		pct := 0.0
		if all > 0 {
			pct = float64(sent) * 100 / float64(all)
		}
		s.rep.Infof("uploading: %.0f%% of %s (%s)", pct, sizeText(all), rateText(sent, now.Sub(start)))
	}
	s.rep.Infof("uploading %d file(s), %s, to %s", len(files), sizeText(total), s.target())
	if _, err := upload.ZIP(ctx, sas, files, &opts); err != nil {
		return fmt.Errorf("upload packages of %s: %w", s.target(), redact.Error(err))
	}
	took := s.clock.Now().Sub(start)
	s.rep.Infof("uploaded %d file(s), %s, in %s (%s)", len(files), sizeText(total), took.Round(time.Millisecond), rateText(total, took))
	return nil
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

func sizeText(n int64) string {
	const mb = 1 << 20
	if n < mb {
		return fmt.Sprintf("%.1f KB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/mb)
}

func rateText(n int64, d time.Duration) string {
	if d <= 0 {
		return "rate unknown"
	}
	return fmt.Sprintf("%.1f MB/s", float64(n)/(1<<20)/d.Seconds())
}
