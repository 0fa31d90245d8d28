package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/storeflight/storeflight/internal/storefake"
)

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"-help", "--help", "-h"} {
		var out, errOut bytes.Buffer
		if err := run([]string{arg}, &out, &errOut); err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		help := out.String()
		if errOut.Len() != 0 {
			t.Errorf("%s wrote to stderr: %s", arg, errOut.String())
		}
		for _, want := range []string{"Usage: storefake", "Example", "Listening and output:", "Store behaviour:", "Seeded app", "Scripted faults:", "-app-xbox", "-certification duration"} {
			if !strings.Contains(help, want) {
				t.Errorf("%s: help lacks %q", arg, want)
			}
		}
		if strings.Contains(help, "Other flags:") {
			t.Errorf("a flag is in no group:\n%s", help)
		}
		// Each flag's text says its default at most once, and never as a
		// placeholder value.
		for _, entry := range regexp.MustCompile(`(?m)^  -`).Split(help, -1)[1:] {
			if n := strings.Count(entry, "(default"); n > 1 {
				t.Errorf("default given %d times: %s", n, entry)
			}
			if strings.Contains(entry, "-1ns") || strings.Contains(entry, "(default )") {
				t.Errorf("odd default: %s", entry)
			}
		}
		for _, line := range strings.Split(help, "\n") {
			if len(line) > 80 {
				t.Errorf("line longer than 80 columns: %q", line)
			}
		}
	}
}

func TestBadFlags(t *testing.T) {
	t.Parallel()
	tests := map[string][]string{
		"unknown flag":           {"-bogus"},
		"argument":               {"serve"},
		"upper-case language":    {"-app-languages", "en-us,de-DE"},
		"empty language":         {"-app-languages", "en-us,"},
		"empty price":            {"-app-price", " "},
		"16 trailers":            {"-app-trailers", "16"},
		"negative images":        {"-app-images", "-1"},
		"unknown target":         {"-target", "retail"},
		"negative stage":         {"-stage", "-1s"},
		"negative certification": {"-certification", "-1s"},
	}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			err := run(args, &out, &errOut)
			if !errors.Is(err, errUsage) {
				t.Fatalf("run(%q) = %v, want the usage error (exit 2)", args, err)
			}
			if !strings.HasPrefix(errOut.String(), "storefake: ") || out.Len() != 0 {
				t.Errorf("stdout %q, stderr %q", out.String(), errOut.String())
			}
		})
	}
}

// The app seed flags shape the app submission the simulator serves.
func TestAppSeedFlags(t *testing.T) {
	t.Parallel()
	var sf seedFlags
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	sf.register(fs)
	if err := fs.Parse([]string{"-app-languages", "en-us,de-de,fr-fr", "-app-price", "Tier5", "-app-images", "3", "-app-trailers", "2", "-app-xbox", "-target", "app"}); err != nil {
		t.Fatal(err)
	}
	sim := seeded(t, &sf)
	b, ok := sim.SubmissionJSON(seedAppID, "", seedAppPublishedID)
	if !ok {
		t.Fatal("no app submission")
	}
	var sub struct {
		Listings map[string]struct {
			BaseListing struct {
				Images []any `json:"images"`
			} `json:"baseListing"`
		} `json:"listings"`
		Pricing  struct{ PriceID string } `json:"pricing"`
		Trailers []any                    `json:"trailers"`
		Packages []struct {
			FileName             string   `json:"fileName"`
			TargetDeviceFamilies []string `json:"targetDeviceFamilies"`
		} `json:"applicationPackages"`
	}
	if err := json.Unmarshal(b, &sub); err != nil {
		t.Fatal(err)
	}
	var langs []string
	for l, listing := range sub.Listings {
		langs = append(langs, l)
		if len(listing.BaseListing.Images) != 3 {
			t.Errorf("%s has %d images", l, len(listing.BaseListing.Images))
		}
	}
	slices.Sort(langs)
	if !slices.Equal(langs, []string{"de-de", "en-us", "fr-fr"}) || sub.Pricing.PriceID != "Tier5" || len(sub.Trailers) != 2 {
		t.Errorf("product page: languages %v, price %q, %d trailers", langs, sub.Pricing.PriceID, len(sub.Trailers))
	}
	if len(sub.Packages) != 2 || !slices.Equal(sub.Packages[1].TargetDeviceFamilies, []string{"Windows.Xbox min version 10.0.17763.0"}) {
		t.Errorf("packages %+v", sub.Packages)
	}
	if got := sf.targetEnv(); got != "STOREFLIGHT_TARGET=app" {
		t.Errorf("target line %q", got)
	}
}

func TestFaultFlags(t *testing.T) {
	t.Parallel()
	sf := seedFlags{target: "flight", languages: "en-us", price: "Free", images: 0, trailers: 0, pcDraft: true, unsupported: true}
	sim := seeded(t, &sf)
	a, _ := sim.App(seedAppID)
	b, _ := sim.SubmissionJSON(seedAppID, "", a.PendingID)
	if a.PendingID == "" || bytes.Contains(b, []byte("fileUploadUrl")) {
		t.Errorf("no Partner Center draft: %+v %s", a, b)
	}
	tok, _ := sim.Credential().GetToken(t.Context(), policyFor())
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, sim.URL()+"/v1.0/my/applications/"+seedAppID+"/flights/"+seedFlightID+"/submissions", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err := sim.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("a change on an app with unsupported features: %s, want 409", resp.Status)
	}
}

// seeded returns a simulator seeded as the flags say.
func seeded(t *testing.T, sf *seedFlags) *storefake.Server {
	t.Helper()
	seed, err := sf.seed()
	if err != nil {
		t.Fatal(err)
	}
	sim, err := storefake.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	if err := sim.Seed(seed); err != nil {
		t.Fatal(err)
	}
	return sim
}

func policyFor() policy.TokenRequestOptions {
	return policy.TokenRequestOptions{Scopes: []string{"https://manage.devcenter.microsoft.com/.default"}}
}
