package store

import (
	"errors"
	"time"
)

// CommitObserver hears about every group commit: how long it took (the
// writes and the fsync), how many writes shared it, and whether the commit
// itself failed (then every write in it failed).
type CommitObserver func(d time.Duration, writes int, failed bool)

// ObserveCommits makes f hear about every group commit from now on; nil
// stops it. It is safe to call while the store is in use.
func (s *Store) ObserveCommits(f CommitObserver) {
	if f == nil {
		s.onCommit.Store(nil)
		return
	}
	s.onCommit.Store(&f)
}

func (s *Store) observeCommit(d time.Duration, group []*writeReq, errs []error) {
	f := s.onCommit.Load()
	if f == nil {
		return
	}
	// A failed commit gives every write the same error; a write of its
	// own that failed (a second vote) does not fail the commit.
	var ge *groupError
	failed := len(errs) > 0 && errors.As(errs[0], &ge)
	(*f)(d, len(group), failed)
}

// groupError is the error of every write of a group whose transaction
// could not begin or commit.
type groupError struct {
	op  string
	err error
}

func (e *groupError) Error() string { return e.op + ": " + e.err.Error() }
func (e *groupError) Unwrap() error { return e.err }
