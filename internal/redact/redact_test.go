package redact

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"sas url", `Put "https://acct.blob.core.windows.net/ingestion/abc?sv=2014-02-14&sr=b&sig=AB%2Bc/d=&se=2026-01-01&sp=rwl": dial tcp`,
			`Put "https://acct.blob.core.windows.net/ingestion/abc?sv=REDACTED&sr=REDACTED&sig=REDACTED&se=REDACTED&sp=REDACTED": dial tcp`},
		{"bearer", "Authorization: Bearer eyJ0eXAi.abc.def", "Authorization: Bearer REDACTED"},
		{"form", "client_id=x&client_secret=hunter2", "client_id=x&client_secret=REDACTED"},
		{"json", `{"access_token":"tok123","expires_in":3600}`, `{"access_token":"REDACTED","expires_in":3600}`},
		{"plain", "commit submission 1152921504621243649: 409 InvalidState", "commit submission 1152921504621243649: 409 InvalidState"},
		{"empty", "", ""},
		{"prose", "add permissions: id-token: write to the job; POST /t/oauth2/v2.0/token: 400",
			"add permissions: id-token: write to the job; POST /t/oauth2/v2.0/token: 400"},
		{"bare form", "grant_type=x client_assertion=eyJhbGc.x.y", "grant_type=x client_assertion=REDACTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := String(tt.in); got != tt.want {
				t.Errorf("String(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestURL(t *testing.T) {
	t.Parallel()
	got := URL("https://h/p/x?sig=s3cr3t+x&se=1")
	if strings.Contains(got, "s3cr3t") || !strings.HasPrefix(got, "https://h/p/x?") {
		t.Errorf("URL = %q", got)
	}
	if got := URL("https://h/p"); got != "https://h/p" {
		t.Errorf("URL without query = %q", got)
	}
}

func TestErrorKeepsChain(t *testing.T) {
	t.Parallel()
	base := fmt.Errorf("put https://h/b?sig=SECRET: %w", fs.ErrNotExist)
	err := Error(base)
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("Error() leaks: %q", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Error("errors.Is lost the chain")
	}
	if Error(err) != err {
		t.Error("redacting twice should return the same error")
	}
	if Error(nil) != nil {
		t.Error("Error(nil) != nil")
	}
}
