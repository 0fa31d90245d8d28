package config

import "strings"

// notBuiltYet refuses inputs that this build parses and checks but whose
// pipeline steps are not there yet, so that a run never goes ahead having
// silently ignored one (DESIGN.md: "never exit 0 having dropped an
// input"). Each line goes when its feature lands.
func notBuiltYet(c *Config, raw map[string]value) []error {
	var errs []error
	add := func(input, problem string) {
		errs = append(errs, &InputError{Input: input, Problem: problem + " is not supported by this build of storeflight yet: nothing was sent; drop the input or use a release that has it"})
	}
	if c.Target == TargetApp && c.WantsUpdate() {
		add("target", "updating the app's own submission (target: app with "+strings.Join(updateInputs(c, raw), ", ")+")")
	}
	if c.PackageMode == PackageSupersede {
		add("package-mode", "supersede")
	}
	return errs
}
