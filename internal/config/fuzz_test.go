package config

import (
	"errors"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary text to a few inputs, from flags and from the
// environment, and checks that Load never panics, that every error is a
// set of *InputError values (so the run exits 2), and that
// a Config it accepts holds only values the rest of the program expects.
func FuzzLoad(f *testing.F) {
	f.Add("--rollout-percentage=12.5", "10", "published", "90s", "9NBLGGH4R315", "2026-05-01T09:00:00Z", "true")
	f.Add("--halt-rollout", "", "", "", "", "", "")
	f.Add("--wait-for", "1e2", "Published", "-1m", "9nblggh4r315", "2026-13-01", "yes")
	f.Add("-simulate=TRUE", "100.", ".5", "0s", "", "", "FALSE")
	f.Add("-=", "0", "0", "0", "0", "0", "0") // a flag with no name
	f.Add("--", "NaN", "none\n", "1h\x00", "ÄPP", "T", " ")
	f.Fuzz(func(t *testing.T, arg, pct, waitFor, timeout, appID, date, boolean string) {
		// packages expands globs against the file system: a fuzzed
		// pattern like /** would walk the whole disk.
		if strings.Contains(strings.ToLower(arg), "packages") {
			t.Skip()
		}
		env := map[string]string{
			"INPUT_ROLLOUT-PERCENTAGE":              pct,
			"STOREFLIGHT_WAIT_FOR":                  waitFor,
			"INPUT_TIMEOUT":                         timeout,
			"STOREFLIGHT_APPLICATION_ID":            appID,
			"INPUT_MANDATORY_UPDATE_EFFECTIVE_DATE": date,
			"STOREFLIGHT_FINALIZE_ROLLOUT":          boolean,
			"INPUT_FLIGHT-NAME":                     "Beta",
			"STOREFLIGHT_MANDATORY_UPDATE":          boolean,
		}
		cfg, err := Load([]string{arg, "--simulate"}, func(k string) string { return env[k] })
		if err != nil {
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("error %v does not match ErrInvalidInput", err)
			}
			var leaves []error
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				leaves = j.Unwrap()
			} else {
				leaves = []error{err}
			}
			for _, e := range leaves {
				var ie *InputError
				if !errors.As(e, &ie) || ie.Input == "" || ie.Problem == "" {
					t.Fatalf("error %q is not an *InputError saying what is wrong", e)
				}
			}
			return
		}
		if cfg == nil {
			t.Fatal("Load returned neither a Config nor an error")
		}
		if cfg.ShowHelp || cfg.ShowVersion {
			return
		}
		if p := cfg.RolloutPercentage; p != nil && (*p <= 0 || *p > 100 || *p != *p) {
			t.Fatalf("accepted rollout-percentage %v", *p)
		}
		if cfg.Timeout <= 0 || cfg.PollInterval <= 0 || cfg.MaxPollInterval < cfg.PollInterval {
			t.Fatalf("accepted durations timeout %v poll %v max %v", cfg.Timeout, cfg.PollInterval, cfg.MaxPollInterval)
		}
		switch cfg.WaitFor {
		case WaitNone, WaitCommitted, WaitCertified, WaitPublished:
		default:
			t.Fatalf("accepted wait-for %q", cfg.WaitFor)
		}
		if cfg.ApplicationID != "" && len(cfg.ApplicationID) != 12 {
			t.Fatalf("accepted application-id %q", cfg.ApplicationID)
		}
		if cfg.HaltRollout && cfg.FinalizeRollout {
			t.Fatal("accepted halt-rollout with finalize-rollout")
		}
	})
}
