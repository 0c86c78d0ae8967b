package store

import (
	"sync"

	"github.com/agora-rlhf/agora/ingest/ledger"
)

// topLevel is the lowest level of the tree whose hashes treeTop keeps:
// one hash in 256 leaves, the hashes that hash tiles above the first level
// and the upper half of an inclusion proof read. In runs (a commit's
// hashes in a row) each sits in a row of its own, a row read for one hash;
// kept in memory, a tile or proof reads the store only for the lower
// levels, which lie together in a few runs.
const topLevel = 8

// maxTop bounds the hashes treeTop keeps (about 16 MB, every upper hash
// of a log of 64 million leaves); past it, the rest are read each time.
const maxTop = 1 << 19

// treeTop keeps the log's upper tree hashes, as they are read from the
// store: a committed tree hash never changes (the log only grows, and
// readers see only committed rows), so it can be kept for good.
type treeTop struct {
	mu sync.RWMutex
	m  map[int64]ledger.Hash // by stored-hash index
}

// fill sets out[i] for every index the cache holds and returns the
// positions of the others, by index.
func (t *treeTop) fill(indexes []int64, out []ledger.Hash) map[int64][]int {
	pos := make(map[int64][]int, len(indexes))
	t.mu.RLock()
	defer t.mu.RUnlock()
	for i, x := range indexes {
		if h, ok := t.m[x]; ok {
			out[i] = h
			continue
		}
		pos[x] = append(pos[x], i)
	}
	return pos
}

// keep adds the upper hashes among the ones read, at stored indexes
// read (out[pos[x][0]] is x's hash).
func (t *treeTop) keep(read []int64, pos map[int64][]int, out []ledger.Hash) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = make(map[int64]ledger.Hash)
	}
	for _, x := range read {
		if len(t.m) >= maxTop {
			return
		}
		if ledger.HashLevel(x) >= topLevel {
			t.m[x] = out[pos[x][0]]
		}
	}
}
