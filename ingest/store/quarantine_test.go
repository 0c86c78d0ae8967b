package store

import (
	"context"
	"testing"

	"github.com/agora-rlhf/agora/rlhf"
)

// TestQuarantine quarantines, lists, lifts and logs, on a real store.
func TestQuarantine(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	q := rlhf.Quarantine{Contributor: "c1", Reason: "sequential test", Since: t0}
	if err := s.Quarantine(ctx, q, "detector"); err != nil {
		t.Fatal(err)
	}
	if err := s.Quarantine(ctx, rlhf.Quarantine{Contributor: "c1", Reason: "again", Since: t0}, "detector"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Quarantined(ctx)
	if err != nil || len(got) != 1 || got[0] != q {
		t.Fatalf("Quarantined = %+v, %v; want [%+v]", got, err, q)
	}
	if err := s.LiftQuarantine(ctx, rlhf.QuarantineEvent{Contributor: "c1", Reason: "false alarm", Actor: "admin", At: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.LiftQuarantine(ctx, rlhf.QuarantineEvent{Contributor: "c1", Actor: "admin", At: t0}); rlhf.ErrorCode(err) != rlhf.ENotFound {
		t.Errorf("second lift: %v, want not_found", err)
	}
	if got, _ := s.Quarantined(ctx); len(got) != 0 {
		t.Errorf("after the lift: %+v", got)
	}
	log, err := s.QuarantineLog(ctx)
	if err != nil || len(log) != 2 || log[0].Action != "quarantine" || log[0].Actor != "detector" ||
		log[1].Action != "lift" || log[1].Reason != "false alarm" {
		t.Errorf("QuarantineLog = %+v, %v", log, err)
	}
}
