//go:build !windows

package e2e

import (
	"os"
	"os/exec"
	"runtime"
	"syscall"
)

// exeSuffix ends the name of the binary the suite builds.
const exeSuffix = ""

// systemVariables are passed from the suite's environment to every run,
// as a runner's step gets them.
var systemVariables = []string{"PATH", "HOME", "TMPDIR"}

// runnerOS is $RUNNER_OS on a GitHub runner of this OS.
var runnerOS = func() string {
	if runtime.GOOS == "darwin" {
		return "macOS"
	}
	return "Linux"
}()

// sslCertFileWorks: Go reads SSL_CERT_FILE on Linux and other Unix
// systems, not on macOS, where it asks the system's verifier.
const sslCertFileWorks = runtime.GOOS != "darwin" && runtime.GOOS != "ios"

// A runner cancels a job with SIGTERM, which the binary reports as
// "cancelled by SIGTERM" and exit code 143.
const (
	cancelSignal   = "SIGTERM"
	cancelExitCode = 143
)

func prepareCommand(*exec.Cmd) {}

// cancelUnsupported says why this machine cannot cancel a run, or "".
func cancelUnsupported() string { return "" }

// cancelProcess cancels the run as a runner does.
func cancelProcess(p *os.Process) error { return p.Signal(syscall.SIGTERM) }
