package store

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/agora-rlhf/agora/rlhf"
	"github.com/agora-rlhf/agora/rlhf/formats"
	"github.com/agora-rlhf/agora/rlhf/formats/parquet"
)

// TestExportRecordsEqualsRecords checks that ExportRecords gives what
// Records gives, in the order the battles were stored, for each filter,
// but for the fields it leaves out.
func TestExportRecordsEqualsRecords(t *testing.T) {
	s := variedStore(t)
	order := battleOrder(t, s)
	for _, f := range variedFilters {
		t.Run(fmt.Sprintf("%+v", f), func(t *testing.T) {
			want := readAll(t, s.RecordsWhere, f, exportFields)
			sort.Slice(want, func(i, j int) bool { return order[idOf(want[i])] < order[idOf(want[j])] })
			got := readAll(t, s.ExportRecords, f, exportFields)
			if len(got) != len(want) {
				t.Fatalf("ExportRecords gave %d records, Records %d", len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("record %d:\n got %s\nwant %s", i, got[i], want[i])
				}
			}
		})
	}
	ctx := context.Background()
	n := 0
	if err := s.ExportRecords(ctx, RecordFilter{Limit: 7}, func(int64, *rlhf.Record) error { n++; return nil }); err != nil || n != 7 {
		t.Errorf("Limit 7: %d records, %v", n, err)
	}
}

// idOf returns the battle id in a record formatted by the test.
func idOf(s string) string {
	var seq int
	var id string
	fmt.Sscanf(s, "%d {Battle:{ID:%s", &seq, &id)
	return id
}

// battleOrder returns the seq of each stored battle, by id.
func battleOrder(t *testing.T, s *Store) map[string]int64 {
	t.Helper()
	rows, err := s.read.Query(`SELECT id, seq FROM battles`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	order := map[string]int64{}
	for rows.Next() {
		var id string
		var seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			t.Fatal(err)
		}
		order[id] = seq
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return order
}

// TestExportRecordsFormats checks that the fields ExportRecords leaves out
// change no export: each format written from ExportRecords is the same as
// written from the whole records.
func TestExportRecordsFormats(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	recs := importRecs("f", 50)
	for i := range recs {
		r := &recs[i]
		r.Battle.CampaignID = "spring"
		r.Vote.Winner = []rlhf.Winner{rlhf.WinnerA, rlhf.WinnerB, rlhf.WinnerTie, rlhf.WinnerBothBad}[i%4]
		for j := range r.Battle.Turns {
			// Some answers failed; those pairs are left out.
			r.Battle.Turns[j].B.Content = "partial answer b"
			if i%5 != 0 {
				r.Battle.Turns[j].B.ErrorCode, r.Battle.Turns[j].B.Error = "", ""
			}
		}
	}
	if _, err := s.Import(ctx, feed(recs, nil)); err != nil {
		t.Fatal(err)
	}
	var whole []rlhf.Record
	err := s.RecordsWhere(ctx, RecordFilter{}, func(_ int64, r *rlhf.Record) error {
		c := *r
		c.Battle.Turns = slices.Clone(r.Battle.Turns)
		whole = append(whole, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	order := battleOrder(t, s)
	slices.SortFunc(whole, func(a, b rlhf.Record) int { return cmp.Compare(order[a.Battle.ID], order[b.Battle.ID]) })
	opts := formats.Options{Key: []byte("k"), Margin: true}
	exported := formats.RecordsFunc(func(ctx context.Context, fn func(*rlhf.Record) error) error {
		return s.ExportRecords(ctx, RecordFilter{}, func(_ int64, r *rlhf.Record) error { return fn(r) })
	})
	type export func(context.Context, io.Writer, string, formats.Options, rlhf.RecordSource) (formats.Stats, error)
	cases := map[string]export{}
	for _, f := range formats.Formats {
		cases[string(f)] = formats.Export
		if parquet.Supports(f) {
			cases[string(f)+"/parquet"] = parquet.Export
		}
	}
	for name, export := range cases {
		t.Run(name, func(t *testing.T) {
			f := strings.TrimSuffix(name, "/parquet")
			var want, got bytes.Buffer
			if _, err := export(ctx, &want, f, opts, formats.SliceSource(whole)); err != nil {
				t.Fatal(err)
			}
			if _, err := export(ctx, &got, f, opts, exported); err != nil {
				t.Fatal(err)
			}
			if want.Len() == 0 || !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("from ExportRecords: %d bytes %q\nfrom whole records: %d bytes %q", got.Len(), got.Bytes()[:min(got.Len(), 300)], want.Len(), want.Bytes()[:min(want.Len(), 300)])
			}
		})
	}
}

// readers are the store's two ways to read every record.
func readers(s *Store) map[string]func(context.Context, RecordFilter, func(int64, *rlhf.Record) error) error {
	return map[string]func(context.Context, RecordFilter, func(int64, *rlhf.Record) error) error{
		"ExportRecords": s.ExportRecords,
		"RecordsWhere":  s.RecordsWhere,
	}
}

// TestExportRecordsStops checks that an error from fn, or a cancelled
// context, stops ExportRecords and Records and all of their goroutines.
func TestExportRecordsStops(t *testing.T) {
	s := openTest(t)
	if _, err := s.Import(context.Background(), feed(importRecs("s", 3000), nil)); err != nil {
		t.Fatal(err)
	}
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for name, read := range readers(s) {
		stop := errors.New("stop")
		n := 0
		err := read(context.Background(), RecordFilter{}, func(int64, *rlhf.Record) error {
			if n++; n == 3 {
				return stop
			}
			return nil
		})
		if err != stop || n != 3 {
			t.Errorf("%s, fn failing at record 3: %d records, %v", name, n, err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		n = 0
		err = read(ctx, RecordFilter{}, func(int64, *rlhf.Record) error {
			if n++; n == 1000 {
				cancel()
			}
			return nil
		})
		if !errors.Is(err, context.Canceled) || n >= 3000 {
			t.Errorf("%s, cancelled at record 1000: %d records, %v", name, n, err)
		}
	}
}

// TestExportRecordsWhileVoting reads every record, with ExportRecords and
// Records, while battles are saved and voted on: every record voted before
// the read began is read, and every record read is whole.
func TestExportRecordsWhileVoting(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if _, err := s.Import(ctx, feed(importRecs("w", 2000), nil)); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan error)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			b := testBattle(fmt.Sprintf("live%05d", i), 2)
			if err := s.SaveBattle(ctx, b); err != nil {
				done <- err
				return
			}
			b.Status = rlhf.StatusVoted
			if err := s.SaveVote(ctx, b, testVote(b, fmt.Sprintf("live-v%05d", i))); err != nil {
				done <- err
				return
			}
		}
	}()
	for i := range 6 {
		name := []string{"ExportRecords", "RecordsWhere"}[i%2]
		before, err := s.ExportCount(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		err = readers(s)[name](ctx, RecordFilter{}, func(_ int64, r *rlhf.Record) error {
			n++
			want := 2
			if i, err := strconv.Atoi(strings.TrimPrefix(r.Battle.ID, "w")); err == nil {
				want = 1 + i%3 // as importRecs makes them
			}
			if len(r.Battle.Turns) != want {
				return fmt.Errorf("battle %s: %d turns, want %d", r.Battle.ID, len(r.Battle.Turns), want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if int64(n) < before {
			t.Fatalf("%s read %d records; %d were stored before it began", name, n, before)
		}
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
