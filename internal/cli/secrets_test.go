package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/storeflight/storeflight/internal/auth/authtest"
	"github.com/storeflight/storeflight/internal/ci/citest"
	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/storefake"
)

// A real (not simulated) run on GitHub that signs in with a client secret
// at a fake Entra and steers a rollout on a Store served over loopback.
// The secret and every access token may appear only in ::add-mask::
// lines, which must carry them by GitHub's protocol; nowhere else in the
// log, the outputs or the summary. In the hostile case the Store echoes
// the bearer token and the secret back in its error message.
func TestSecretsNeverPrinted(t *testing.T) {
	t.Parallel()
	const secret = "Sx8Q~client.secret-value_0123456789abcdefGHIJ"
	for _, hostile := range []bool{false, true} {
		t.Run(fmt.Sprintf("hostile=%v", hostile), func(t *testing.T) {
			t.Parallel()
			sim, err := storefake.New(&storefake.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sim.Close() })
			if err := sim.Seed(simulatorSeed(&config.Config{ApplicationID: demoAppID, FlightName: demoFlightName}, false)); err != nil {
				t.Fatal(err)
			}
			entra := authtest.NewEntra(t, authtest.EntraOptions{ClientSecret: secret, OnIssue: sim.AcceptToken})
			store := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if hostile && r.Method == http.MethodPost {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusBadRequest)
					fmt.Fprintf(w, `{"code":"InvalidParameterValue","message":"you sent %s with client_secret=%s and secret %s"}`,
						r.Header.Get("Authorization"), secret, secret)
					return
				}
				sim.Handler().ServeHTTP(w, r)
			}))
			t.Cleanup(store.Close)

			e := newRunEnv(t, map[string]string{"RUNNER_DEBUG": "1"}).github()
			e.sm.authTransport = entra.Client()
			e.vars["INPUT_CLIENT-SECRET"] = secret
			code := e.run(t, "--tenant-id=72f988bf-86f1-41af-91ab-2d7cd011db47", "--client-id=11111111-2222-3333-4444-555555555555",
				"--authority-host="+entra.URL()+"/", "--api-url="+store.URL,
				"--application-id="+demoAppID, "--flight-name="+demoFlightName, "--rollout-percentage=20")
			want := ExitOK
			if hostile {
				want = ExitFailed
			}
			if code != want {
				t.Fatalf("exit code %d, want %d", code, want)
			}
			outs, _, err := citest.ParseGitHubFile(readFile(t, e.path("github_output")))
			if err != nil {
				t.Fatal(err)
			}
			if !hostile && outs["rollout-percentage"] != "20" {
				t.Errorf("rollout-percentage = %q, want 20: the run did not reach the Store", outs["rollout-percentage"])
			}
			if len(entra.AccessTokensIssued()) == 0 {
				t.Fatal("no access token issued: the run never signed in, so this test proves nothing")
			}
			secrets := append(entra.Secrets(), secret)
			all := e.everything(t)
			for _, line := range strings.Split(all, "\n") {
				if strings.HasPrefix(line, "::add-mask::") {
					continue
				}
				for _, s := range secrets {
					if s != "" && strings.Contains(line, s) {
						t.Errorf("a secret (%.6s…) is printed in: %q", s, line)
					}
				}
			}
			masks := logLines(e.stdout.String(), "::add-mask::")
			for _, s := range append([]string{secret}, entra.AccessTokensIssued()...) {
				found := false
				for _, m := range masks {
					found = found || m == "::add-mask::"+s
				}
				if !found {
					t.Errorf("no ::add-mask:: for a secret the run met (%.6s…)", s)
				}
			}
			if hostile && !strings.Contains(e.stdout.String(), "InvalidParameterValue") {
				t.Errorf("the Store's error code is not in the log")
			}
		})
	}
}
