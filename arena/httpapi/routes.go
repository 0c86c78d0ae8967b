package httpapi

import (
	"embed"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/rlhf"
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
// from. Routes come in groups, one per dependency: a group's routes are
// registered only when its dependency is configured, so a server without
// one answers its routes 404 (no such route), never 503 at request time.
func (s *Server) Routes() []Route {
	c := s.cfg
	return slices.Concat(
		s.publicRoutes(),
		s.leaderboardRoutes(c.Leaderboards, c.Daily),
		s.exportRoutes(c.Records),
		s.metricsRoutes(c.Metrics),
		s.ledgerRoutes(c.Ledger),
		s.contributionRoutes(c.Contributions),
		s.goldRoutes(c.MyGold),
		s.releaseRoutes(c.Releaser),
		s.quarantineRoutes(c.Quarantine),
		s.termsRoutes(c.Terms),
		s.privacyRoutes(c.Privacy),
		s.contributorRoutes(c.Contributors),
		s.memberRoutes(c.Members, c.Passkeys, c.OpenID),
		s.accountRoutes(c.Accounts),
		s.registryRoutes(c.Registry, c.Usage),
		s.policyRoutes(c.Policy),
		s.campaignRoutes(c.Campaigns, c.Registry),
		s.demoRoutes(c.Demo),
	)
}

// publicRoutes are the pages, health and the websocket: every server has
// them.
func (s *Server) publicRoutes() []Route {
	return []Route{
		{"GET", "/", Anyone, s.wrap(s.handleIndex)},
		{"GET", "/static/*filepath", Anyone, s.wrap(s.handleStatic)},
		{"HEAD", "/static/*filepath", Anyone, s.wrap(s.handleStatic)},
		{"GET", "/healthz", Anyone, s.wrap(handleHealthz)},
		{"GET", "/readyz", Anyone, s.wrap(s.handleReadyz)},
		{"GET", "/api/v1/arena/ws", Anyone, s.wrap(s.handleWebsocket)},
		{"GET", "/api/v1/arena/challenge", Anyone, s.wrap(s.handleChallenge)},
		{"GET", "/leaderboard", Anyone, s.wrap(s.handleLeaderboardPage)},
		{"GET", "/api/v1/openapi.json", Anyone, s.wrap(handleOpenAPI)},
		{"GET", "/api/docs", Anyone, s.wrap(s.handleAPIPage)},
		{"GET", "/transparency", Anyone, s.wrap(s.handleTransparencyPage)},
		{"GET", "/me", Anyone, s.wrap(s.handleMePage)},
		{"GET", "/api/v1/terms", Anyone, s.wrap(s.handleTerms)},
		// Contributors' accounts: the state and signing out hold without
		// a store of members (members.go).
		{"GET", "/api/v1/account", Anyone, s.wrap(s.handleAccount)},
		{"POST", "/api/v1/account/signout", Anyone, s.wrap(s.handleSignOut)},
	}
}

// leaderboardRoutes serve the leaderboards (leaderboard.go).
func (s *Server) leaderboardRoutes(lbs Leaderboards, daily DailyVotes) []Route {
	api := s.newLeaderboardAPI(lbs, daily, leaderboardRate) // one rate limit for the board and its daily votes
	var rs []Route
	if lbs != nil {
		rs = append(rs, Route{"GET", "/api/v1/leaderboard", Anyone, s.wrap(handleLeaderboard(api))})
	}
	if daily != nil {
		rs = append(rs, Route{"GET", "/api/v1/leaderboard/daily", Anyone, s.wrap(handleVotesPerDay(api))})
	}
	return rs
}

// exportRoutes stream training data to researchers (export.go).
func (s *Server) exportRoutes(records rlhf.RecordSource) []Route {
	if records == nil {
		return nil
	}
	return []Route{
		{"GET", "/api/v1/export", ResearcherOrAdmin, s.streamingRoute(s.wrap(s.newExportAPI(records).handleExport))},
	}
}

// metricsRoutes serve the metrics to Prometheus (metrics.go).
func (s *Server) metricsRoutes(ms []Metrics) []Route {
	if len(ms) == 0 {
		return nil
	}
	return []Route{
		{"GET", "/metrics", MetricsOrAdmin, s.wrap(handleMetrics(ms...))},
	}
}

// ledgerRoutes serve the verifiable log of votes, public to read (log.go).
func (s *Server) ledgerRoutes(l Ledger) []Route {
	if l == nil {
		return nil
	}
	return []Route{
		{"GET", "/log/checkpoint", Anyone, s.wrap(handleCheckpoint(l, true))},
		{"GET", "/log/checkpoint/latest", Anyone, s.wrap(handleCheckpoint(l, false))},
		{"GET", "/log/key", Anyone, s.wrap(handleLogKey(l))},
		{"GET", "/log/tile/*path", Anyone, s.wrap(handleTile(l))},
		{"POST", "/log/cosignature", Anyone, s.wrap(handleCosignature(l))},
		{"GET", "/api/v1/log/proof", Anyone, s.wrap(handleProof(l))},
	}
}

// contributionRoutes serve contributors' points and the releases
// (api_contributions.go).
func (s *Server) contributionRoutes(cs Contributions) []Route {
	if cs == nil {
		return nil
	}
	return []Route{
		{"GET", "/api/v1/me/points", Anyone, s.wrap(s.handlePoints(cs))},
		{"GET", "/api/v1/releases", Anyone, s.wrap(handleReleases(cs))},
		{"GET", "/api/v1/releases/proof", Anyone, s.wrap(handleReleaseProof(cs))},
	}
}

// goldRoutes serve a contributor's own gold accuracy (api_gold_me.go).
func (s *Server) goldRoutes(g GoldScorer) []Route {
	if g == nil {
		return nil
	}
	return []Route{
		{"GET", "/api/v1/me/gold", Anyone, s.wrap(handleMyGold(g, s.contributor))},
	}
}

// releaseRoutes build releases while the server runs (api_releases.go).
func (s *Server) releaseRoutes(rel Releaser) []Route {
	if rel == nil {
		return nil
	}
	return []Route{
		{"POST", "/api/v1/admin/releases", AdminOnly, s.wrap(handleBuildRelease(rel, s.log))},
	}
}

// quarantineRoutes list and lift quarantined contributors
// (api_quarantine.go).
func (s *Server) quarantineRoutes(q Quarantines) []Route {
	if q == nil {
		return nil
	}
	return []Route{
		{"GET", "/api/v1/admin/quarantine", AdminOnly, s.wrap(handleListQuarantine(q))},
		{"DELETE", "/api/v1/admin/quarantine/:contributor", AdminOnly, s.wrap(handleLiftQuarantine(q))},
	}
}

// termsRoutes record contributors' acceptance of the operator's terms
// (terms.go).
func (s *Server) termsRoutes(t Terms) []Route {
	if t.Version == "" || t.Keeper == nil {
		return nil
	}
	return []Route{
		{"POST", "/api/v1/me/terms", Anyone, s.wrap(s.handleAcceptTerms)},
	}
}

// privacyRoutes serve contributors' consent, download and erasure, and
// the admin's for requests that arrive by mail (api_privacy.go).
func (s *Server) privacyRoutes(p Privacy) []Route {
	if p == nil {
		return nil
	}
	api := s.newPrivacyAPI(p)
	return []Route{
		{"GET", "/api/v1/me/consent", Anyone, s.wrap(api.handleGetConsent)},
		{"PUT", "/api/v1/me/consent", Anyone, s.wrap(api.handlePutConsent)},
		{"POST", "/api/v1/me/consent/narrow", Anyone, s.wrap(api.handleNarrow)},
		{"GET", "/api/v1/me/data", Anyone, s.wrap(api.handleDownload)},
		{"DELETE", "/api/v1/me/data", Anyone, s.wrap(api.handleErase)},
		{"GET", "/api/v1/admin/contributors/:contributor/data", AdminOnly, s.wrap(api.handleDownload)},
		{"DELETE", "/api/v1/admin/contributors/:contributor/data", AdminOnly, s.wrap(api.handleErase)},
		{"POST", "/api/v1/admin/contributors/:contributor/consent/narrow", AdminOnly, s.wrap(api.handleNarrow)},
	}
}

// contributorRoutes are the admin's views of contributors: gold accuracy,
// votes, clusters (api_contributors.go).
func (s *Server) contributorRoutes(v ContributorViews) []Route {
	if v == nil {
		return nil
	}
	return []Route{
		{"GET", "/api/v1/admin/gold", AdminOnly, s.wrap(handleGold(v))},
		{"GET", "/api/v1/admin/contributors", AdminOnly, s.wrap(handleContributors(v))},
		{"GET", "/api/v1/admin/clusters", AdminOnly, s.wrap(handleClusters(v))},
	}
}

// memberRoutes sign contributors in with a passkey or OpenID Connect, and
// let the admin see and sign out members (members.go, api_account.go,
// api_openid.go).
func (s *Server) memberRoutes(m Members, pk PasskeyCeremonies, oid OpenID) []Route {
	if m == nil {
		return nil
	}
	rs := []Route{
		{"GET", "/api/v1/admin/members/:id", AdminOnly, s.wrap(handleMemberGet(m))},
		{"DELETE", "/api/v1/admin/members/:id/sessions", AdminOnly, s.wrap(handleRevokeMemberSessions(m, s.cfg.Identity.now, s.log))},
	}
	if pk != nil {
		rs = append(rs, []Route{
			{"POST", "/api/v1/account/passkey/register/begin", Anyone, s.wrap(s.handlePasskeyRegisterBegin)},
			{"POST", "/api/v1/account/passkey/register/finish", Anyone, s.wrap(s.handlePasskeyRegisterFinish)},
			{"POST", "/api/v1/account/passkey/login/begin", Anyone, s.wrap(s.handlePasskeyLoginBegin)},
			{"POST", "/api/v1/account/passkey/login/finish", Anyone, s.wrap(s.handlePasskeyLoginFinish)},
		}...)
	}
	if oid != nil {
		rs = append(rs, []Route{
			{"GET", "/api/v1/account/oidc/login", Anyone, s.wrap(s.handleOpenIDLogin)},
			{"GET", "/api/v1/account/oidc/callback", Anyone, s.wrap(s.handleOpenIDCallback)},
		}...)
	}
	return rs
}

// accountRoutes manage lab and researcher accounts and their tokens
// (api_labs.go).
func (s *Server) accountRoutes(a Accounts) []Route {
	if a == nil {
		return nil
	}
	api := s.newAccountAPI(a)
	return []Route{
		{"GET", "/api/v1/labs", AdminOnly, s.wrap(api.handleListAccounts(labKind))},
		{"POST", "/api/v1/labs", AdminOnly, s.wrap(api.handleCreateAccount(labKind))},
		{"GET", "/api/v1/labs/me", RoleLab, s.wrap(handleMe)},
		{"DELETE", "/api/v1/labs/:id", AdminOnly, s.wrap(api.handleDisableAccount(labKind))},
		{"POST", "/api/v1/labs/:id/tokens", AdminOnly, s.wrap(api.handleNewToken(labKind))},
		{"DELETE", "/api/v1/labs/:id/tokens", AdminOnly, s.wrap(api.handleRevokeTokens(labKind))},
		{"GET", "/api/v1/researchers", AdminOnly, s.wrap(api.handleListAccounts(researcherKind))},
		{"POST", "/api/v1/researchers", AdminOnly, s.wrap(api.handleCreateAccount(researcherKind))},
		{"DELETE", "/api/v1/researchers/:id", AdminOnly, s.wrap(api.handleDisableAccount(researcherKind))},
		{"POST", "/api/v1/researchers/:id/tokens", AdminOnly, s.wrap(api.handleNewToken(researcherKind))},
		{"DELETE", "/api/v1/researchers/:id/tokens", AdminOnly, s.wrap(api.handleRevokeTokens(researcherKind))},
	}
}

// registryRoutes serve the model registry and labs' usage (api_models.go).
func (s *Server) registryRoutes(reg ModelRegistry, usage UsageSource) []Route {
	if reg == nil {
		return nil
	}
	api := s.newRegistryAPI(reg, usage)
	rs := []Route{
		{"GET", "/api/v1/models", LabOrAdmin, s.wrap(api.handleListModels)},
		{"POST", "/api/v1/models", LabOrAdmin, s.wrap(api.handleCreateModel)},
		{"GET", "/api/v1/models/:lab/:model", LabOrAdmin, s.wrap(api.handleGetModel)},
		{"PATCH", "/api/v1/models/:lab/:model", LabOrAdmin, s.wrap(api.handleUpdateModel)},
		{"DELETE", "/api/v1/models/:lab/:model", LabOrAdmin, s.wrap(api.handleDeleteModel)},
		{"POST", "/api/v1/models/:lab/:model/pause", LabOrAdmin, s.wrap(api.handlePauseModel(true))},
		{"POST", "/api/v1/models/:lab/:model/resume", LabOrAdmin, s.wrap(api.handlePauseModel(false))},
	}
	if usage != nil {
		rs = append(rs, Route{"GET", "/api/v1/usage", LabOrAdmin, s.wrap(api.handleUsage)})
	}
	return rs
}

// policyRoutes serve the leaderboard policy: its transparency report, and
// listing and deprecating models (api_policy.go).
func (s *Server) policyRoutes(gov Governance) []Route {
	if gov == nil {
		return nil
	}
	return []Route{
		{"GET", "/api/v1/transparency", Anyone, s.wrap(handleTransparency(gov))},
		{"PUT", "/api/v1/admin/policy", AdminOnly, s.wrap(handlePutPolicy(gov))},
		{"POST", "/api/v1/models/:lab/:model/list", LabOrAdmin, s.wrap(handleListModel(gov))},
		{"POST", "/api/v1/deprecations", LabOrAdmin, s.wrap(handleDeprecate(gov))},
	}
}

// campaignRoutes serve labs' prompt campaigns of the registry's models
// (api_campaigns.go).
func (s *Server) campaignRoutes(cs CampaignStore, reg ModelRegistry) []Route {
	if cs == nil || reg == nil {
		return nil
	}
	api := s.newCampaignAPI(cs, reg)
	return []Route{
		{"GET", "/api/v1/campaigns", LabOrAdmin, s.wrap(api.handleListCampaigns)},
		{"POST", "/api/v1/campaigns", LabOrAdmin, s.wrap(api.handleCreateCampaign)},
		{"GET", "/api/v1/campaigns/:id", LabOrAdmin, s.wrap(api.handleGetCampaign)},
		{"PATCH", "/api/v1/campaigns/:id", LabOrAdmin, s.wrap(api.handleUpdateCampaign)},
		{"DELETE", "/api/v1/campaigns/:id", LabOrAdmin, s.wrap(api.handleDeleteCampaign)},
		{"GET", "/api/v1/campaigns/:id/prompts", LabOrAdmin, s.wrap(api.handleGetPrompts)},
		{"PUT", "/api/v1/campaigns/:id/prompts", LabOrAdmin, s.wrap(api.handlePutPrompts)},
		{"POST", "/api/v1/campaigns/:id/start", LabOrAdmin, s.wrap(api.handleCampaignStatus(true))},
		{"POST", "/api/v1/campaigns/:id/pause", LabOrAdmin, s.wrap(api.handleCampaignStatus(false))},
		{"GET", "/api/v1/campaigns/:id/progress", LabOrAdmin, s.wrap(api.handleCampaignProgress)},
	}
}

// demoRoutes mount the demo models' endpoint.
func (s *Server) demoRoutes(demo http.Handler) []Route {
	if demo == nil {
		return nil
	}
	return []Route{
		{"ANY", "/demo/v1/*path", Anyone, s.streamingRoute(gin.WrapH(demo))},
	}
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
