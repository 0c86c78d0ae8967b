package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/rlhf"
	"github.com/agora-rlhf/agora/rlhf/formats"
	"github.com/agora-rlhf/agora/rlhf/formats/parquet"
)

// exportTrailer is the HTTP trailer that says whether a streamed export
// completed: "ok", or "error: ..." when it broke off after the status line
// was sent.
const exportTrailer = "X-Agora-Export-Status"

// exportAPI streams training data, with what it uses: the records, the
// options every export gets (the pseudonyms' key, the default licence,
// the language detector, the duplicate filter's spill storage) and the
// log.
type exportAPI struct {
	records rlhf.RecordSource
	base    formats.Options
	log     *slog.Logger
}

// newExportAPI gives the export route what it uses of s.
func (s *Server) newExportAPI(records rlhf.RecordSource) *exportAPI {
	return &exportAPI{records: records, log: s.log, base: formats.Options{Key: s.cfg.ExportKey,
		Licence: s.cfg.DefaultConsent.Licence, Detector: s.cfg.Languages, Spill: s.cfg.ExportSpill}}
}

// handleExport streams training data in any export format to a
// researcher (an account's token or the configured researcher token) or
// the admin; the route table checks which. The choices are the flags of "agora export" as query
// parameters.
func (api *exportAPI) handleExport(c *gin.Context) error {
	q := c.Request.URL.Query()
	format := q.Get("format")
	f, err := formats.ParseFormat(format)
	if err != nil {
		return err
	}
	asParquet, err := queryBool(q, "parquet")
	if err != nil {
		return err
	}
	opts, err := exportOptions(c.Request.URL.Query())
	if err != nil {
		return err
	}
	opts.Key, opts.Licence, opts.Detector, opts.Spill = api.base.Key, api.base.Licence, api.base.Detector, api.base.Spill
	if err := opts.Validate(f); err != nil {
		return err
	}
	export, contentType, ext := formats.Export, f.ContentType(), f.Ext()
	if asParquet {
		if !parquet.Supports(f) {
			return rlhf.Errorf(rlhf.EInvalid, "format %s has no Parquet form", f)
		}
		export, contentType, ext = parquet.Export, "application/vnd.apache.parquet", ".parquet"
	}
	c.Header("Content-Type", contentType)
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="agora-%s%s"`, f, ext))
	c.Header("Trailer", exportTrailer)
	c.Status(http.StatusOK)
	stats, err := export(c.Request.Context(), c.Writer, string(f), opts, api.records)
	if err != nil {
		api.log.Error("export broke off", "format", f, "records", stats.Records, "err", err)
		c.Writer.Header().Set(exportTrailer, "error: "+rlhf.ErrorMessage(err))
		return nil // the status line is gone; the trailer tells
	}
	c.Writer.Header().Set(exportTrailer, "ok")
	api.log.Info("export", "format", f, "records", stats.Records, "rows", stats.Rows)
	return nil
}

// exportOptions reads the export choices from query parameters.
func exportOptions(q map[string][]string) (formats.Options, error) {
	var o formats.Options
	var err error
	if o.Since, err = queryTime(q, "since"); err != nil {
		return o, err
	}
	if o.Until, err = queryTime(q, "until"); err != nil {
		return o, err
	}
	o.Models, o.Sources = queryList(q, "models"), queryList(q, "source")
	o.Languages, o.Categories = queryList(q, "language"), queryList(q, "category")
	get := func(name string) string {
		if v := q[name]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	o.MinStrength = rlhf.Strength(get("min_strength"))
	switch sc := get("scope"); sc {
	case "":
		o.Scope = rlhf.ScopeResearch
	case "all":
	default:
		if o.Scope, err = rlhf.ParseScope(sc); err != nil {
			return o, badParam(q, "scope", `leaderboard, research, training or all`)
		}
	}
	o.Ties = formats.TieMode(get("ties"))
	o.Split = formats.Split(get("split"))
	o.Contributors = formats.ContributorMode(get("contributors"))
	if o.Margin, err = queryBool(q, "margin"); err != nil {
		return o, err
	}
	if o.KeepDuplicates, err = queryBool(q, "keep_duplicates"); err != nil {
		return o, err
	}
	if o.NoRedact, err = queryBool(q, "no_redact"); err != nil {
		return o, err
	}
	if v := get("test_fraction"); v != "" {
		if o.TestFraction, err = strconv.ParseFloat(v, 64); err != nil {
			return o, badParam(q, "test_fraction", "a number in [0, 1)")
		}
	}
	return o, nil
}
