package steps

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/storeflight/storeflight/internal/storeapi"
)

// maxChangeAttempts is how many times a change (create, commit, rollout) is
// sent in all while every answer is lost and every read of the state shows
// it did not take effect. A burst of 5xx answers or broken connections is
// survived; a Store that never answers is not waited on forever.
const maxChangeAttempts = 5

// firstResendDelay is the wait before the first re-send; it doubles for
// each later one, so five attempts span about half a minute.
const firstResendDelay = 2 * time.Second

// changeAtMostOnce sends a change that must take effect at most once, up to
// maxChangeAttempts times while its answers are lost. When the answer is
// lost (storeapi.ErrOutcomeUnknown), or, with conflictMayBeDone, is a 409,
// check reads the state: a change that reached the Store shows there at
// once, so when check says it is applied the change is done and is not sent
// again. After a lost answer with the state unchanged, nothing took effect,
// so sending again cannot make a second one; it is re-sent after a growing
// pause. A 409 with the state unchanged is the Store refusing the change
// and is returned as is.
func changeAtMostOnce[T any](ctx context.Context, s *State, what string, conflictMayBeDone bool,
	send func() (T, error), check func() (T, bool, error)) (T, error) {
	var zero T
	delay := firstResendDelay
	for attempt := 1; ; attempt++ {
		got, err := send()
		if err == nil {
			return got, nil
		}
		unknown := errors.Is(err, storeapi.ErrOutcomeUnknown)
		if !unknown && !(conflictMayBeDone && errors.Is(err, storeapi.ErrConflict)) {
			return zero, err
		}
		s.rep.Infof("%s: %s; checking whether it took effect", what, unclearAnswer(err))
		cur, applied, rerr := check()
		if rerr != nil {
			return zero, errors.Join(err, fmt.Errorf("read the state after it: %w", rerr))
		}
		if applied {
			s.rep.Infof("%s took effect", what)
			return cur, nil
		}
		if !unknown {
			return zero, err
		}
		if attempt == maxChangeAttempts {
			// The caller's error names the change.
			return zero, fmt.Errorf("%d attempts in a row got no clear answer, and the Store shows none took effect; re-run with the same inputs to try again: %w", attempt, err)
		}
		s.rep.Infof("%s did not take effect; sending it again in %s (attempt %d of %d)", what, delay, attempt+1, maxChangeAttempts)
		if err := s.clock.Sleep(ctx, delay); err != nil {
			return zero, err
		}
		delay *= 2
	}
}
