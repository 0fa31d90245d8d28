package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
)

const exeSuffix = ".exe"

// systemVariables are passed from the suite's environment to every run;
// Windows programs need the first ones to find their temporary directory
// and system libraries (os/exec adds SYSTEMROOT by itself).
var systemVariables = []string{"PATH", "SystemRoot", "TEMP", "TMP", "USERPROFILE", "LOCALAPPDATA", "ComSpec", "PATHEXT"}

const runnerOS = "Windows"

// sslCertFileWorks: Go on Windows trusts the system store only.
const sslCertFileWorks = false

// Windows has no SIGTERM. A console interrupt is the nearest: CTRL_BREAK
// sent to the run's own process group, which Go delivers as os.Interrupt,
// so the binary reports "cancelled by SIGINT" and exit code 130.
const (
	cancelSignal   = "SIGINT"
	cancelExitCode = 130
)

// prepareCommand starts the run in a process group of its own, so that a
// CTRL_BREAK reaches it and not the test process.
func prepareCommand(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}

var (
	kernel32                     = syscall.NewLazyDLL("kernel32.dll")
	procGenerateConsoleCtrlEvent = kernel32.NewProc("GenerateConsoleCtrlEvent")
	procAllocConsole             = kernel32.NewProc("AllocConsole")
	ntdll                        = syscall.NewLazyDLL("ntdll.dll")

	consoleOnce sync.Once
	consoleErr  error
)

// cancelUnsupported says why this machine cannot cancel a run, or "".
// A console control event reaches only processes sharing the sender's
// console, so a test process started without one (a service, some CI
// agents) first gets one of its own, which the runs inherit.
func cancelUnsupported() string {
	if ntdll.NewProc("wine_get_version").Find() == nil {
		// Wine 8 answers GenerateConsoleCtrlEvent with "Invalid access".
		return "Wine does not deliver console control events to another process group"
	}
	consoleOnce.Do(func() {
		// AllocConsole fails with access denied when the process has a
		// console already, which is what is wanted.
		if ok, _, err := procAllocConsole.Call(); ok == 0 && err != syscall.ERROR_ACCESS_DENIED {
			consoleErr = err
		}
	})
	if consoleErr != nil {
		return fmt.Sprintf("no console to send CTRL_BREAK through, and none could be made: %v", consoleErr)
	}
	return ""
}

// cancelProcess sends CTRL_BREAK to the run's process group.
func cancelProcess(p *os.Process) error {
	if ok, _, err := procGenerateConsoleCtrlEvent.Call(syscall.CTRL_BREAK_EVENT, uintptr(p.Pid)); ok == 0 {
		return fmt.Errorf("GenerateConsoleCtrlEvent: %w", err)
	}
	return nil
}
