package main

import (
	"errors"
	"io"

	"github.com/agora-rlhf/agora/analytics"
)

// openLiveRecords opens the live store in dir for reading votes. The lead
// replaces this file with the real wiring in store.go.
func openLiveRecords(dir string) (analytics.RecordSource, io.Closer, error) {
	return nil, nil, errors.New("live store not available yet: give a FILE of battles")
}
