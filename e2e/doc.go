// Package e2e holds storeflight's end-to-end reliability and security suite.
// Its tests build the real binary once and run it the way a GitHub runner
// does (a clean environment, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, the OIDC
// variables), against the Store simulator and a fake Entra ID and GitHub
// OIDC endpoint listening on loopback over TLS, trusted only through the
// extra-root-certs input (one scenario: SSL_CERT_FILE, where Go reads it).
// It runs on Linux, Windows and macOS; on Windows, which has no SIGTERM, the
// cancel scenarios interrupt the run with CTRL_BREAK. Each scenario injects one kind of trouble (throttling, 5xx
// and resets, lost responses, expiring tokens, cancellation, bad inputs, bad
// answers) and ends with a check of the simulator's final state and request
// log; every run is scanned for secrets. RELIABILITY.md at the repository
// root lists the scenarios and is checked against them.
package e2e
