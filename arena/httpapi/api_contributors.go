package httpapi

import (
	"context"
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/rlhf"
)

// ContributorViews answers the admin views of contributors: gold accuracy
// and votes per contributor from the store, clusters from the anomaly
// detectors. main wires it from *store.Store and the detectors.
type ContributorViews interface {
	GoldScores(ctx context.Context) ([]rlhf.GoldScore, error)
	ContributorVotes(ctx context.Context, limit int) ([]rlhf.ContributorVotes, error)
	Clusters(min int) []rlhf.Cluster
}

// intQuery reads an integer query parameter between lo and hi, def when
// absent.
func intQuery(c *gin.Context, name string, def, lo, hi int) (int, error) {
	s := c.Query(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, rlhf.Errorf(rlhf.EInvalid, "%s must be a whole number from %d to %d", name, lo, hi)
	}
	return n, nil
}

// goldBucket is one bar of the gold accuracy histogram: contributors whose
// accuracy is at least From and below To (the last bar includes 1).
type goldBucket struct {
	From         float64 `json:"from"`
	To           float64 `json:"to"`
	Contributors int     `json:"contributors"`
}

// handleGold returns the handler of GET /api/v1/admin/gold: the
// distribution of contributors' gold accuracy (those with at least
// min_battles scored gold battles) in ten bars, its median, and the
// limit least accurate contributors.
func handleGold(v ContributorViews) handler {
	return func(c *gin.Context) error {
		minBattles, err := intQuery(c, "min_battles", 5, 1, 1<<20)
		if err != nil {
			return err
		}
		limit, err := intQuery(c, "limit", 100, 0, 100000)
		if err != nil {
			return err
		}
		scores, err := v.GoldScores(c.Request.Context())
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, goldSummary(scores, minBattles, limit))
		return nil
	}
}

// goldReport is the body of GET /api/v1/admin/gold.
type goldReport struct {
	Contributors  int              `json:"contributors"` // with a scored gold battle
	Battles       int              `json:"battles"`      // scored gold battles in all
	MinBattles    int              `json:"min_battles"`
	Measured      int              `json:"measured"` // contributors with at least MinBattles
	Median        float64          `json:"median"`   // of the measured contributors' accuracy
	Histogram     []goldBucket     `json:"histogram"`
	LeastAccurate []rlhf.GoldScore `json:"least_accurate"`
}

// goldSummary summarises scores.
func goldSummary(scores []rlhf.GoldScore, minBattles, limit int) goldReport {
	buckets := make([]goldBucket, 10)
	for i := range buckets {
		buckets[i] = goldBucket{From: float64(i) / 10, To: float64(i+1) / 10}
	}
	measured := []rlhf.GoldScore{}
	battles := 0
	for _, s := range scores {
		battles += s.Battles
		if s.Battles < minBattles {
			continue
		}
		measured = append(measured, s)
		buckets[min(int(s.Accuracy*10), 9)].Contributors++
	}
	slices.SortStableFunc(measured, func(a, b rlhf.GoldScore) int {
		if a.Accuracy != b.Accuracy {
			if a.Accuracy < b.Accuracy {
				return -1
			}
			return 1
		}
		return b.Battles - a.Battles
	})
	median := 0.0
	if n := len(measured); n > 0 {
		median = (measured[(n-1)/2].Accuracy + measured[n/2].Accuracy) / 2
	}
	return goldReport{Contributors: len(scores), Battles: battles, MinBattles: minBattles,
		Measured: len(measured), Median: median, Histogram: buckets,
		LeastAccurate: measured[:min(limit, len(measured))]}
}

// handleContributors returns the handler of GET
// /api/v1/admin/contributors: the limit contributors with the most votes,
// each with their gold accuracy.
func handleContributors(v ContributorViews) handler {
	return func(c *gin.Context) error {
		limit, err := intQuery(c, "limit", 100, 1, 100000)
		if err != nil {
			return err
		}
		ctx := c.Request.Context()
		votes, err := v.ContributorVotes(ctx, limit)
		if err != nil {
			return err
		}
		scores, err := v.GoldScores(ctx)
		if err != nil {
			return err
		}
		gold := make(map[string]rlhf.GoldScore, len(scores))
		for _, s := range scores {
			gold[s.Contributor] = s
		}
		type row struct {
			rlhf.ContributorVotes
			Gold rlhf.GoldScore `json:"gold"`
		}
		rows := make([]row, len(votes))
		for i, cv := range votes {
			g, ok := gold[cv.Contributor]
			if !ok {
				g = rlhf.NewGoldScore(cv.Contributor, 0, 0)
			}
			rows[i] = row{cv, g}
		}
		c.JSON(http.StatusOK, gin.H{"contributors": rows})
		return nil
	}
}

// handleClusters returns the handler of GET /api/v1/admin/clusters: the
// addresses and user agents that at least min identities voted from.
func handleClusters(v ContributorViews) handler {
	return func(c *gin.Context) error {
		minIDs, err := intQuery(c, "min", 2, 1, 1<<20)
		if err != nil {
			return err
		}
		cl := v.Clusters(minIDs)
		if cl == nil {
			cl = []rlhf.Cluster{}
		}
		c.JSON(http.StatusOK, gin.H{"clusters": cl})
		return nil
	}
}
