//go:build race

package e2e

// raceEnabled builds the binary under test with the race detector when the
// suite itself runs with -race.
const raceEnabled = true
