package e2e

import (
	"testing"
)

// scenarios are the suite's end-to-end scenarios, one per row of
// RELIABILITY.md; TestReliabilityDoc keeps the two in step.
var scenarios = []struct {
	name string
	run  func(t *testing.T)
}{
	{"github-oidc-read-rollout", testGitHubRunnerReadsRollout},
	{"lost-responses", testLostResponses},
	{"throttling", testThrottling},
	{"faults", testFaults},
	{"post-burst", testPostBurst},
	{"token-expiry", testTokenExpiry},
	{"cancel-wait", testCancelWait},
	{"cancel-upload", testCancelUpload},
	{"bad-input", testBadInput},
	{"bad-answers", testBadAnswers},
	{"client-secret", testClientSecret},
	{"rerun-unreadable-version", testUnreadableVersion},
	{"rerun-untouched-clone", testUntouchedClone},
	{"rerun-inputs-applied", testInputsApplied},
	{"rerun-expired-upload-url", testExpiredUploadURL},
	{"follow-up-in-flight", testFollowUpInFlight},
	{"dry-run-plan", testDryRunPlan},
	{"wait-deadline", testWaitDeadline},
	{"gitlab-dotenv-chain", testGitLabDotenvChain},
	{"flag-values", testFlagValues},
	{"conflicts", testConflicts},
	{"outputs-unwritable", testOutputsUnwritable},
	{"second-interrupt", testSecondInterrupt},
	{"retail-release", testRetailRelease},
	{"retail-rerun", testRetailRerun},
	{"retail-base-price", testRetailBasePrice},
	{"retail-partner-center-draft", testRetailPartnerCenterDraft},
	{"retail-dropped-package", testRetailDroppedPackage},
	{"health-gate-walk-to-finalize", testGateWalkToFinalize},
	{"health-gate-halt", testGateHalt},
}

// TestE2E runs every scenario against the compiled binary; run one with
// go test -run 'TestE2E/<name>' ./e2e/.
func TestE2E(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.run(t)
		})
	}
}
