package web

import (
	"embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

//go:embed static
var staticFiles embed.FS

// Route is one route of the server and the roles it admits.
type Route struct {
	Method string // an HTTP method, or "ANY"
	Path   string // in gin's syntax: /api/v1/models/:lab/:model
	Access Role
	h      gin.HandlerFunc
}

// Routes lists every route of the server, each with the roles it admits:
// the one table that both the router and the access checks are built
// from.
func (s *Server) Routes() []Route {
	rs := []Route{
		{"GET", "/", Anyone, s.wrap(s.handleIndex)},
		{"GET", "/static/*filepath", Anyone, s.wrap(s.handleStatic)},
		{"HEAD", "/static/*filepath", Anyone, s.wrap(s.handleStatic)},
		{"GET", "/healthz", Anyone, s.wrap(handleHealthz)},
		{"GET", "/readyz", Anyone, s.wrap(s.handleReadyz)},
		{"GET", "/api/v1/arena/ws", Anyone, s.wrap(s.handleWebsocket)},
		{"GET", "/api/v1/arena/challenge", Anyone, s.wrap(s.handleChallenge)},
		{"GET", "/leaderboard", Anyone, s.wrap(s.handleLeaderboardPage)},
		{"GET", "/api/v1/leaderboard", Anyone, s.wrap(handleLeaderboard(s.newLeaderboardAPI(leaderboardRate)))},
		{"GET", "/api/v1/openapi.json", Anyone, s.wrap(handleOpenAPI)},
		{"GET", "/api/docs", Anyone, s.wrap(s.handleAPIPage)},
		{"GET", "/transparency", Anyone, s.wrap(s.handleTransparencyPage)},
		{"GET", "/api/v1/transparency", Anyone, s.wrap(handleTransparency(s.cfg.Policy))},
		{"GET", "/api/v1/export", ResearcherOrAdmin, s.streamingRoute(s.wrap(s.handleExport))},
		{"GET", "/metrics", MetricsOrAdmin, s.wrap(handleMetrics(s.cfg.Metrics...))},

		// The verifiable log of votes (log.go), public to read.
		{"GET", "/log/checkpoint", Anyone, s.wrap(handleCheckpoint(s.cfg.Ledger, true))},
		{"GET", "/log/checkpoint/latest", Anyone, s.wrap(handleCheckpoint(s.cfg.Ledger, false))},
		{"GET", "/log/key", Anyone, s.wrap(handleLogKey(s.cfg.Ledger))},
		{"GET", "/log/tile/*path", Anyone, s.wrap(handleTile(s.cfg.Ledger))},
		{"POST", "/log/cosignature", Anyone, s.wrap(handleCosignature(s.cfg.Ledger))},
		{"GET", "/api/v1/log/proof", Anyone, s.wrap(handleProof(s.cfg.Ledger))},

		// Contributors' points and the releases (api_contributions.go).
		{"GET", "/me", Anyone, s.wrap(s.handleMePage)},
		{"GET", "/api/v1/me/points", Anyone, s.wrap(s.handlePoints)},
		{"GET", "/api/v1/releases", Anyone, s.wrap(s.handleReleases)},
		{"GET", "/api/v1/releases/proof", Anyone, s.wrap(s.handleReleaseProof)},

		// Quarantined contributors (api_quarantine.go).
		{"GET", "/api/v1/admin/quarantine", AdminOnly, s.wrap(handleListQuarantine(s.cfg.Quarantine))},
		{"DELETE", "/api/v1/admin/quarantine/:contributor", AdminOnly, s.wrap(handleLiftQuarantine(s.cfg.Quarantine))},

		// Contributors' consent, download and erasure, and the admin's
		// for requests that arrive by mail (api_privacy.go).
		{"GET", "/api/v1/terms", Anyone, s.wrap(s.handleTerms)},
		{"POST", "/api/v1/me/terms", Anyone, s.wrap(s.handleAcceptTerms)},
		{"GET", "/api/v1/me/consent", Anyone, s.wrap(s.handleGetConsent)},
		{"PUT", "/api/v1/me/consent", Anyone, s.wrap(s.handlePutConsent)},
		{"POST", "/api/v1/me/consent/narrow", Anyone, s.wrap(s.handleNarrow)},
		{"GET", "/api/v1/me/data", Anyone, s.wrap(s.handleDownload)},
		{"DELETE", "/api/v1/me/data", Anyone, s.wrap(s.handleErase)},
		{"GET", "/api/v1/admin/contributors/:contributor/data", AdminOnly, s.wrap(s.handleDownload)},
		{"DELETE", "/api/v1/admin/contributors/:contributor/data", AdminOnly, s.wrap(s.handleErase)},
		{"POST", "/api/v1/admin/contributors/:contributor/consent/narrow", AdminOnly, s.wrap(s.handleNarrow)},
		// Contributors: gold accuracy, votes, clusters (api_contributors.go).
		{"GET", "/api/v1/admin/gold", AdminOnly, s.wrap(handleGold(s.cfg.Contributors))},
		{"GET", "/api/v1/admin/contributors", AdminOnly, s.wrap(handleContributors(s.cfg.Contributors))},
		{"GET", "/api/v1/admin/clusters", AdminOnly, s.wrap(handleClusters(s.cfg.Contributors))},

		// Contributors' accounts: passkeys, OpenID Connect, sessions
		// (members.go, api_account.go, api_openid.go).
		{"GET", "/api/v1/account", Anyone, s.wrap(s.handleAccount)},
		{"POST", "/api/v1/account/signout", Anyone, s.wrap(s.handleSignOut)},
		{"POST", "/api/v1/account/passkey/register/begin", Anyone, s.wrap(s.handlePasskeyRegisterBegin)},
		{"POST", "/api/v1/account/passkey/register/finish", Anyone, s.wrap(s.handlePasskeyRegisterFinish)},
		{"POST", "/api/v1/account/passkey/login/begin", Anyone, s.wrap(s.handlePasskeyLoginBegin)},
		{"POST", "/api/v1/account/passkey/login/finish", Anyone, s.wrap(s.handlePasskeyLoginFinish)},
		{"GET", "/api/v1/account/oidc/login", Anyone, s.wrap(s.handleOpenIDLogin)},
		{"GET", "/api/v1/account/oidc/callback", Anyone, s.wrap(s.handleOpenIDCallback)},
		{"GET", "/api/v1/admin/members/:id", AdminOnly, s.wrap(s.handleMemberGet)},
		{"DELETE", "/api/v1/admin/members/:id/sessions", AdminOnly, s.wrap(s.handleRevokeMemberSessions)},

		// Accounts (api_labs.go).
		{"GET", "/api/v1/labs", AdminOnly, s.wrap(s.handleListAccounts(labKind))},
		{"POST", "/api/v1/labs", AdminOnly, s.wrap(s.handleCreateAccount(labKind))},
		{"GET", "/api/v1/labs/me", RoleLab, s.wrap(s.handleMe)},
		{"DELETE", "/api/v1/labs/:id", AdminOnly, s.wrap(s.handleDisableAccount(labKind))},
		{"POST", "/api/v1/labs/:id/tokens", AdminOnly, s.wrap(s.handleNewToken(labKind))},
		{"DELETE", "/api/v1/labs/:id/tokens", AdminOnly, s.wrap(s.handleRevokeTokens(labKind))},
		{"GET", "/api/v1/researchers", AdminOnly, s.wrap(s.handleListAccounts(researcherKind))},
		{"POST", "/api/v1/researchers", AdminOnly, s.wrap(s.handleCreateAccount(researcherKind))},
		{"DELETE", "/api/v1/researchers/:id", AdminOnly, s.wrap(s.handleDisableAccount(researcherKind))},
		{"POST", "/api/v1/researchers/:id/tokens", AdminOnly, s.wrap(s.handleNewToken(researcherKind))},
		{"DELETE", "/api/v1/researchers/:id/tokens", AdminOnly, s.wrap(s.handleRevokeTokens(researcherKind))},

		// The model registry (api_models.go).
		{"GET", "/api/v1/models", LabOrAdmin, s.wrap(s.handleListModels)},
		{"POST", "/api/v1/models", LabOrAdmin, s.wrap(s.handleCreateModel)},
		{"GET", "/api/v1/models/:lab/:model", LabOrAdmin, s.wrap(s.handleGetModel)},
		{"PATCH", "/api/v1/models/:lab/:model", LabOrAdmin, s.wrap(s.handleUpdateModel)},
		{"DELETE", "/api/v1/models/:lab/:model", LabOrAdmin, s.wrap(s.handleDeleteModel)},
		{"POST", "/api/v1/models/:lab/:model/pause", LabOrAdmin, s.wrap(s.handlePauseModel(true))},
		{"POST", "/api/v1/models/:lab/:model/resume", LabOrAdmin, s.wrap(s.handlePauseModel(false))},
		{"GET", "/api/v1/usage", LabOrAdmin, s.wrap(s.handleUsage)},

		// The leaderboard policy (api_policy.go).
		{"POST", "/api/v1/models/:lab/:model/list", LabOrAdmin, s.wrap(s.handleListModel)},
		{"POST", "/api/v1/deprecations", LabOrAdmin, s.wrap(s.handleDeprecate)},
		{"PUT", "/api/v1/admin/policy", AdminOnly, s.wrap(s.handlePutPolicy)},

		// Campaigns (api_campaigns.go).
		{"GET", "/api/v1/campaigns", LabOrAdmin, s.wrap(s.handleListCampaigns)},
		{"POST", "/api/v1/campaigns", LabOrAdmin, s.wrap(s.handleCreateCampaign)},
		{"GET", "/api/v1/campaigns/:id", LabOrAdmin, s.wrap(s.handleGetCampaign)},
		{"PATCH", "/api/v1/campaigns/:id", LabOrAdmin, s.wrap(s.handleUpdateCampaign)},
		{"DELETE", "/api/v1/campaigns/:id", LabOrAdmin, s.wrap(s.handleDeleteCampaign)},
		{"GET", "/api/v1/campaigns/:id/prompts", LabOrAdmin, s.wrap(s.handleGetPrompts)},
		{"PUT", "/api/v1/campaigns/:id/prompts", LabOrAdmin, s.wrap(s.handlePutPrompts)},
		{"POST", "/api/v1/campaigns/:id/start", LabOrAdmin, s.wrap(s.handleCampaignStatus(true))},
		{"POST", "/api/v1/campaigns/:id/pause", LabOrAdmin, s.wrap(s.handleCampaignStatus(false))},
		{"GET", "/api/v1/campaigns/:id/progress", LabOrAdmin, s.wrap(s.handleCampaignProgress)},
	}
	if s.cfg.Demo != nil {
		rs = append(rs, Route{"ANY", "/demo/v1/*path", Anyone, s.streamingRoute(gin.WrapH(s.cfg.Demo))})
	}
	return rs
}

// addRoutes registers every route of Routes, behind its access check.
func (s *Server) addRoutes(r *gin.Engine) {
	for _, rt := range s.Routes() {
		if rt.Method == "ANY" {
			r.Any(rt.Path, s.authorize(rt.Access), rt.h)
			continue
		}
		r.Handle(rt.Method, rt.Path, s.authorize(rt.Access), rt.h)
	}
	r.NoRoute(s.wrap(handleNoRoute))
}

// handleStatic serves the page's static files.
func (s *Server) handleStatic(c *gin.Context) error {
	name := c.Param("filepath")
	f, err := http.FS(s.static).Open(name)
	if err != nil {
		return handleNotFound(c)
	}
	st, err := f.Stat()
	f.Close()
	if err != nil || st.IsDir() {
		return handleNotFound(c)
	}
	c.FileFromFS(name, http.FS(s.static))
	return nil
}
