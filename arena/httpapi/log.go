package httpapi

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/rlhf"
)

// Ledger is the verifiable log of votes; *ledger.Log implements it.
type Ledger interface {
	Latest() *ledger.Checkpoint
	Final() *ledger.Checkpoint
	VerifierKey() string
	Tile(ctx context.Context, path string) ([]byte, error)
	ProveInclusion(ctx context.Context, index, size int64) (*ledger.InclusionProof, error)
	ProveVote(ctx context.Context, voteID string, size int64) (*ledger.InclusionProof, error)
	ProveConsistency(ctx context.Context, from, to int64) (*ledger.ConsistencyProof, error)
	AddCosignature(ctx context.Context, note []byte) (int, error)
}

// handleCheckpoint serves GET /log/checkpoint (the newest checkpoint the
// required witnesses have cosigned) and GET /log/checkpoint/latest (the
// newest signed one).
func handleCheckpoint(l Ledger, final bool) handler {
	return func(c *gin.Context) error {
		cp := l.Latest()
		if final {
			cp = l.Final()
		}
		if cp == nil {
			return rlhf.Errorf(rlhf.ENotFound, "no checkpoint is published yet")
		}
		c.Header("Cache-Control", "no-cache")
		c.Data(http.StatusOK, "text/plain; charset=utf-8", cp.Note)
		return nil
	}
}

// handleLogKey serves GET /log/key: the log's verifier key.
func handleLogKey(l Ledger) handler {
	return func(c *gin.Context) error {
		c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte(l.VerifierKey()+"\n"))
		return nil
	}
}

// handleTile serves GET /log/tile/*path as the Go checksum database does.
// A tile never changes once served.
func handleTile(l Ledger) handler {
	return func(c *gin.Context) error {
		path := strings.TrimPrefix(c.Param("path"), "/")
		data, err := l.Tile(c.Request.Context(), path)
		if err != nil {
			return err
		}
		typ := "application/octet-stream"
		if strings.Contains(path, "/data/") {
			typ = "text/plain; charset=utf-8"
		}
		c.Header("Cache-Control", "public, max-age=31536000, immutable")
		c.Data(http.StatusOK, typ, data)
		return nil
	}
}

// handleCosignature serves POST /log/cosignature: a witness hands in a
// checkpoint it has cosigned.
func handleCosignature(l Ledger) handler {
	return func(c *gin.Context) error {
		body, err := io.ReadAll(c.Request.Body)
		if err != nil {
			return err
		}
		n, err := l.AddCosignature(c.Request.Context(), body)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"cosigners": n})
		return nil
	}
}

// handleProof serves GET /api/v1/log/proof: with index or vote, the
// inclusion proof of that leaf in the tree of size leaves (default the
// latest checkpoint's); with from (and to), the consistency proof between
// two tree sizes.
func handleProof(l Ledger) handler {
	return func(c *gin.Context) error {
		q := c.Request.URL.Query()
		size, err := intParam(q.Get("size"), "size")
		if err != nil {
			return err
		}
		var proof any
		switch {
		case q.Has("from"):
			from, err := intParam(q.Get("from"), "from")
			if err != nil {
				return err
			}
			to, err := intParam(q.Get("to"), "to")
			if err != nil {
				return err
			}
			proof, err = l.ProveConsistency(c.Request.Context(), from, to)
			if err != nil {
				return err
			}
		case q.Has("vote"):
			if proof, err = l.ProveVote(c.Request.Context(), q.Get("vote"), size); err != nil {
				return err
			}
		case q.Has("index"):
			index, err := intParam(q.Get("index"), "index")
			if err != nil {
				return err
			}
			if proof, err = l.ProveInclusion(c.Request.Context(), index, size); err != nil {
				return err
			}
		default:
			return rlhf.Errorf(rlhf.EInvalid, "give index or vote (an inclusion proof), or from and to (a consistency proof)")
		}
		c.JSON(http.StatusOK, proof)
		return nil
	}
}

// intParam reads a non-negative integer query parameter; empty is 0.
func intParam(v, name string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, rlhf.Errorf(rlhf.EInvalid, "%s must be a non-negative integer, not %q", name, v)
	}
	return n, nil
}
