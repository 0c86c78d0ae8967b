package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/ingest/ledger"
)

// Releaser builds a release of the store's log, as agora release does,
// while the server runs; cmd/agora wires it.
type Releaser interface {
	Release(ctx context.Context, req ReleaseRequest) (*ReleaseBuilt, error)
}

// ReleaseRequest is the body of POST /api/v1/admin/releases.
type ReleaseRequest struct {
	LogSize  int64  `json:"log_size"`  // the state of the log; 0: the latest checkpoint's
	Format   string `json:"format"`    // an export format; "": arena-jsonl
	ShareCap string `json:"share_cap"` // "": ledger.DefaultShareCap
	Scope    string `json:"scope"`     // only votes allowing this use; "": research, as agora release
	Licence  string `json:"licence"`
}

// ReleaseBuilt is what a release build answers.
type ReleaseBuilt struct {
	Root         ledger.Hash           `json:"release_root"`
	Leaf         int64                 `json:"release_leaf"`
	LogSize      int64                 `json:"log_size"`
	LogRoot      ledger.Hash           `json:"log_root"`
	Votes        int                   `json:"votes"`
	Excluded     int                   `json:"excluded"`
	Contributors int                   `json:"contributors"`
	Licences     []ledger.LicenceCount `json:"licences"` // the data's votes by licence (SPDX), from its card
	Dir          string                `json:"dir"`      // where the files are, under the data directory
	Files        []string              `json:"files"`    // their names
}

// handleBuildRelease serves POST /api/v1/admin/releases: builds the
// release of a state of the log and appends it. Building the same state
// again gives the same files and appends nothing.
func handleBuildRelease(rel Releaser, log *slog.Logger) handler {
	return func(c *gin.Context) error {
		var req ReleaseRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		built, err := rel.Release(c.Request.Context(), req)
		if err != nil {
			return err
		}
		log.Info("release built", "root", built.Root, "leaf", built.Leaf, "log_size", built.LogSize)
		c.JSON(http.StatusOK, built)
		return nil
	}
}
