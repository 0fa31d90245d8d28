package ci

// Reporter delivers the run's events in the native form of the CI system it
// runs on. Implementations mask every secret passed to Mask in all later
// output, including output written before Mask by nothing: callers Mask a
// secret as soon as they meet it.
type Reporter interface {
	// Group starts a collapsible section of the log; the returned func ends it.
	Group(name string) (end func())
	// Mask hides value in all later output (::add-mask::, task.setsecret, or
	// local redaction where the platform has no such command).
	Mask(value string)
	// Infof writes one log line.
	Infof(format string, args ...any)
	// Debugf writes one log line only when debugging is on.
	Debugf(format string, args ...any)
	// Notice, Warning and Error annotate the run; title may be empty.
	Notice(title, message string)
	Warning(title, message string)
	Error(title, message string)
	// SetOutput records one output; outputs are written as they are set or
	// at Close, as the platform requires.
	SetOutput(name, value string) error
	// Summary appends Markdown to the job summary, or prints it where the
	// platform has none.
	Summary(markdown string) error
	// Close flushes outputs (dotenv and output-file) and ends any open group.
	Close() error
}
