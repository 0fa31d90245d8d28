package steps

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/storeflight/storeflight/internal/auth"
	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/redact"
	"github.com/storeflight/storeflight/internal/storeapi"
)

// Outcome is how a run ended, as the first line of its job summary says.
type Outcome string

// The outcomes of a run. A hold is a success (exit 0) that leaves the
// rollout where it is; a timeout with on-timeout: pass is a timeout that
// lets the job pass.
const (
	OutcomeSucceeded   Outcome = "succeeded"
	OutcomeFailed      Outcome = "failed"
	OutcomeTimedOut    Outcome = "timed out"
	OutcomeInterrupted Outcome = "interrupted"
	OutcomeHeld        Outcome = "held"
	// OutcomeHalted is the health gate's halt of a bad build (exit 4):
	// the halt itself succeeded.
	OutcomeHalted Outcome = "halted"
)

// Ending says why a run did not simply succeed: the step it stopped in,
// what happened, the service's answer when a call failed, and what to do
// next. Every text in it is redacted.
type Ending struct {
	Step string
	// What happened, in the run's words: one line, or clauses joined
	// with "; ".
	What string
	// Answer is the refusal of the Store or of Entra ID, when a call to
	// one of them failed; nil otherwise.
	Answer *Answer
	// Next is what to do next; "" when What already says it.
	Next string
	// Details are lines the log adds under the headline (the health
	// gate's figures), which the summary shows in a section of its own.
	Details []string
}

// Answer is a failed call as the service answered it.
type Answer struct {
	Service    string // "the Store" or "Entra ID"
	Operation  string // e.g. "commit flight submission"
	Method     string
	HTTPStatus int // 0 when no answer came
	Code       string
	Message    string
	// Err is what went wrong besides an error answer: no answer came (a
	// connection broken), or the answer could not be read.
	Err           string
	CorrelationID string
}

// StepError is a step's failure, as Run returns it. Its message is the
// failure as a person reads it in the log: a headline naming the step,
// then indented lines with the service's answer and what to do next.
// errors.Is and errors.As see the step's own error through it.
type StepError struct {
	Ending
	Err error
}

func (e *StepError) Error() string { return strings.Join(e.lines(), "\n  ") }

func (e *StepError) Unwrap() error { return e.Err }

// What to do next, for the failures whose own words do not say it.
const (
	nextTimedOut  = "re-run with the same inputs: the next run continues the wait on the same submission"
	nextRerun     = "re-run with the same inputs to continue"
	nextStartOver = "the submission's errors (and any certification report) say what to fix; " +
		"to release again, set pending-submission: replace (it deletes this one) or delete it in Partner Center"
	nextStoreBusy = "the Store failed or was busy: re-run with the same inputs later; the run continues from what the Store says"
	nextConflict  = "the submission's state does not allow this, or it changed meanwhile; check it in Partner Center, then re-run with the same inputs"
	nextNotFound  = "check application-id, the flight (flight-id or flight-name) and submission-id against Partner Center"
	nextUnhealthy = "nothing was changed, as on-unhealthy: fail asks: decide in Partner Center, or run with halt-rollout: true to halt it"
	nextHalted    = "devices that have the new packages keep them; fix the build and release it again " +
		"(the Store clones the halted submission: keep package-mode: replace, the default)"
)

// endingOf describes the failure err of step.
func endingOf(step string, err error) Ending {
	e := Ending{Step: step, What: redact.String(err.Error()), Next: nextStep(err)}
	if errors.Is(err, ErrTimedOut) {
		// The headline says what is still in progress; the outcome says
		// that it timed out.
		e.What = strings.TrimPrefix(e.What, ErrTimedOut.Error()+": ")
	}
	var signIn *auth.SignInError
	var se *storeapi.Error
	var unhealthy *UnhealthyError
	switch {
	case errors.As(err, &unhealthy):
		// The gate's section of the summary has the figures; the headline
		// keeps the decision and its reason.
		e.What = redact.String(unhealthy.headline())
		e.Details = strings.Split(unhealthy.Result.Figures(), "\n")
	case errors.As(err, &signIn):
		e.Answer = &Answer{Service: "Entra ID", HTTPStatus: signIn.StatusCode, Code: signIn.Code,
			Message: signIn.Description, CorrelationID: signIn.CorrelationID}
		e.What = fmt.Sprintf("sign-in to Entra ID (%s) failed", signIn.Mode)
		if signIn.Description == "" {
			e.What = firstLine(redact.String(signIn.Error()))
			e.Answer.CorrelationID = ""
		}
	case errors.As(err, &se):
		e.Answer = &Answer{Service: "the Store", Operation: se.Op, Method: se.Method, HTTPStatus: se.StatusCode,
			Code: se.Code, Message: redact.String(se.Message), CorrelationID: se.CorrelationID}
		if se.Err != nil {
			e.Answer.Err = redact.String(se.Err.Error())
		}
		e.What = withoutAnswer(e.What, redact.String(se.Error()), se.Op)
	}
	return e
}

// withoutAnswer takes the Store error's own text, which the Answer lines
// give piece by piece, out of msg; what follows it (a joined error) stays.
func withoutAnswer(msg, storeText, op string) string {
	i := strings.LastIndex(msg, storeText)
	if i < 0 {
		return msg
	}
	head := strings.TrimSuffix(strings.TrimSpace(msg[:i]), ":")
	if head == "" {
		head = op
	}
	return head + msg[i+len(storeText):]
}

// nextStep says what to do about err, reusing the hints the packages give;
// "" when the error's own words say it.
func nextStep(err error) string {
	var signIn *auth.SignInError
	var se *storeapi.Error
	var failed *SubmissionFailedError
	var input *config.InputError
	var unhealthy *UnhealthyError
	switch {
	case errors.Is(err, ErrTimedOut):
		return nextTimedOut
	case errors.As(err, &unhealthy) && unhealthy.Halted:
		return nextHalted
	case errors.As(err, &unhealthy):
		return nextUnhealthy
	case errors.As(err, &failed):
		return nextStartOver
	case errors.As(err, &input):
		return "correct " + input.Input + " and run again: nothing was changed"
	case errors.As(err, &signIn):
		return signIn.Hint
	case errors.As(err, &se) && se.Hint() != "":
		return se.Hint()
	case errors.As(err, &se) && se.Retryable():
		return nextStoreBusy
	case errors.Is(err, storeapi.ErrConflict):
		return nextConflict
	case errors.Is(err, storeapi.ErrNotFound):
		return nextNotFound
	}
	return ""
}

// maxHeadline is the longest headline a failure keeps on one line: with
// the CLI's "error: storeflight failed: " before it, it stays within a
// progress line's 120 characters.
const maxHeadline = 88

// lines is the ending as the log shows it: a headline naming the step and
// the answer in a few words, then one line for each further clause, each
// piece of the answer, and what to do next.
func (e *Ending) lines() []string {
	clauses := splitClauses(e.What)
	head := clauses[0]
	if e.Step != "" {
		head = e.Step + ": " + head
	}
	var out []string
	switch a := e.Answer; {
	case a == nil:
		out = breakHeadline(head)
	case utf8.RuneCountInString(head+": "+a.headline()) <= maxHeadline:
		out = []string{head + ": " + a.headline()}
	default:
		out = append(breakHeadline(head), a.headline())
	}
	out = append(out, clauses[1:]...)
	out = append(out, e.Details...)
	if e.Answer != nil {
		out = append(out, e.Answer.details()...)
	}
	if e.Next != "" {
		next := splitClauses(e.Next)
		out = append(out, "next: "+next[0])
		for _, c := range next[1:] {
			out = append(out, "      "+c)
		}
	}
	return out
}

// breakHeadline cuts a headline longer than maxHeadline after its first
// ": " past the step's name, where what failed ends and why begins. It
// never cuts a phrase in two, so one with no such place stays whole.
func breakHeadline(head string) []string {
	const minHead, minRest = 20, 24
	if utf8.RuneCountInString(head) <= maxHeadline {
		return []string{head}
	}
	for i := minHead; i+2+minRest <= len(head); i++ {
		if strings.HasPrefix(head[i:], ": ") {
			return []string{head[:i+1], head[i+2:]}
		}
	}
	return []string{head}
}

// splitClauses cuts a message into its lines and its "; " clauses, the
// places where a person's eye rests.
func splitClauses(s string) []string {
	var out []string
	for l := range strings.SplitSeq(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		for c := range strings.SplitSeq(l, "; ") {
			if c = strings.TrimSpace(c); c != "" {
				out = append(out, c)
			}
		}
	}
	if len(out) == 0 {
		return []string{""}
	}
	return out
}

// headline is the answer in a few words: "the Store answered 409
// InvalidState", or that none came, or that it could not be read.
func (a *Answer) headline() string {
	switch {
	case a.HTTPStatus == 0 && a.Code != "":
		return a.Service + " refused: " + a.Code
	case a.HTTPStatus == 0:
		return "no answer from " + a.Service
	case a.HTTPStatus < 300 && a.Err != "":
		return fmt.Sprintf("%s answered %d, but the answer could not be read", a.Service, a.HTTPStatus)
	}
	s := fmt.Sprintf("%s answered %d", a.Service, a.HTTPStatus)
	if a.Code != "" {
		return s + " " + a.Code
	}
	return s + " " + http.StatusText(a.HTTPStatus)
}

// details are the answer's lines after the headline.
func (a *Answer) details() []string {
	var out []string
	add := func(label, v string) {
		if v != "" {
			out = append(out, label+": "+v)
		}
	}
	add("message", oneLine(a.Message))
	add("error", oneLine(a.Err))
	if a.Operation != "" && a.Method != "" {
		add("operation", a.Operation+" ("+a.Method+")")
	} else {
		add("operation", a.Operation)
	}
	add("correlation ID", a.CorrelationID)
	return out
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
