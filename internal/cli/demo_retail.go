package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/msix"
	"github.com/storeflight/storeflight/internal/steps"
)

// The retail demo's release: a new Desktop package for the app's own
// submission, with "What's new" in the two languages its listings have.
const retailDemoPackage = "ContosoNotes_1.1.0.0_x64.msix"

var retailDemoNotes = map[string]string{
	"en-us.txt": "Ink sync is faster, and notes open where you left them.\n",
	"de-de.txt": "Tinte wird schneller synchronisiert, und Notizen öffnen sich dort, wo Sie aufgehört haben.\n",
}

// playRetailDemo is the demo's retail release, on the demo app's own
// submission: a new x64 Desktop package supersedes the Desktop one while
// the Xbox package stays, "What's new" comes from a folder with a file per
// language, and the release goes out to 10% of customers. Its summary is
// printed; the demo's outputs stay the flight release's.
func playRetailDemo(ctx context.Context, deps steps.Deps, base *config.Config, dir string) (*steps.State, error) {
	rep := deps.Reporter
	dir = filepath.Join(dir, "retail")
	pkg, notes, err := writeRetailDemoFiles(dir)
	if err != nil {
		return nil, err
	}
	cfg := *base
	ten := 10.0
	cfg.ApplicationID, cfg.Target, cfg.FlightID, cfg.FlightName = demoAppID, config.TargetApp, "", ""
	cfg.Packages, cfg.PackageMode, cfg.ReleaseNotesDir = []config.Package{pkg}, config.PackageSupersede, notes
	cfg.RolloutPercentage, cfg.WaitFor, cfg.FinalizeRollout = &ten, config.WaitPublished, false
	cfg.RolloutSteps = nil // the health demo's
	rep.Infof("")
	rep.Infof("=== retail demo: the app's own submission (target: app), at a 10%% rollout")
	rep.Infof("    %s supersedes the Desktop package, the Xbox one stays", pkg.ZIPName)
	rep.Infof("    \"What's new\" in en-us and de-de")
	deps.Config = &cfg
	st, err := steps.Run(ctx, deps)
	if err != nil {
		return st, err
	}
	if err := rep.Summary(st.SummaryMarkdown()); err != nil {
		rep.Warning("summary", err.Error())
	}
	out := st.Outputs()
	rep.Infof("retail demo outputs: submission-id %s, status %s, rollout-percentage %s, flight-id empty",
		out[steps.OutSubmissionID], out[steps.OutSubmissionStatus], out[steps.OutRolloutPercentage])
	return st, nil
}

// writeRetailDemoFiles writes the retail demo's package and notes folder.
func writeRetailDemoFiles(dir string) (config.Package, string, error) {
	notes := filepath.Join(dir, "whats-new")
	if err := os.MkdirAll(notes, 0o755); err != nil {
		return config.Package{}, "", err
	}
	for name, text := range retailDemoNotes {
		if err := os.WriteFile(filepath.Join(notes, name), []byte(text), 0o644); err != nil {
			return config.Package{}, "", err
		}
	}
	path := filepath.Join(dir, retailDemoPackage)
	f, err := os.Create(path)
	if err != nil {
		return config.Package{}, "", err
	}
	id := msix.Identity{Name: "Contoso.Notes", Version: demoVersion, Architectures: []string{"x64"}, DeviceFamilies: []string{"Windows.Desktop"}}
	if err := msix.WriteDemo(f, id); err != nil {
		f.Close()
		return config.Package{}, "", fmt.Errorf("write the retail demo package: %w", err)
	}
	if err := f.Close(); err != nil {
		return config.Package{}, "", err
	}
	return config.Package{Path: path, ZIPName: retailDemoPackage}, notes, nil
}
