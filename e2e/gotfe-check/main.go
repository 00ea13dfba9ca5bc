// Command gotfe-check drives the tfc-sim HCP Terraform simulator with the
// official Go client (github.com/hashicorp/go-tfe) to prove that the
// simulator's documents decode and its status codes map to the client's
// errors. It prints one line per check and exits non-zero if any failed.
//
// It mutates the simulator: it locks and unlocks frontend-cdn, locks and
// force-unlocks core-network, and applies a run on frontend-cdn. It leaves
// payment-gateway locked, as seeded. By default it expects the simulator to
// run with --run-locks (see run.sh); pass -run-locks=false otherwise.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	tfe "github.com/hashicorp/go-tfe"
)

const org = "acme-corp"

type checker struct {
	passed, failed int
}

// run executes one check; fn returns the detail shown after "ok".
func (c *checker) run(name string, fn func() (string, error)) {
	detail, err := fn()
	if err != nil {
		c.failed++
		fmt.Printf("FAIL %s: %v\n", name, err)
		return
	}
	c.passed++
	if detail != "" {
		fmt.Printf("ok  %s (%s)\n", name, detail)
	} else {
		fmt.Printf("ok  %s\n", name)
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func main() {
	address := flag.String("address", envOr("TFE_ADDRESS", ""), "simulator API address, e.g. http://127.0.0.1:8080 (env TFE_ADDRESS)")
	token := flag.String("token", envOr("TFE_TOKEN", "sim-token"), "API token (env TFE_TOKEN)")
	timeout := flag.Duration("timeout", 60*time.Second, "overall time limit for waiting on runs")
	runLocks := flag.Bool("run-locks", true, "expect runs to hold the workspace lock (tfc-sim started with --run-locks)")
	flag.Parse()
	if *address == "" {
		fmt.Fprintln(os.Stderr, "gotfe-check: -address (or TFE_ADDRESS) is required")
		os.Exit(2)
	}
	base := strings.TrimRight(*address, "/")

	var retries429 atomic.Int64
	client, err := tfe.NewClient(&tfe.Config{
		Address: base,
		Token:   *token,
		RetryLogHook: func(_ int, resp *http.Response) {
			if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
				retries429.Add(1)
			}
		},
	})
	if err != nil {
		fmt.Printf("FAIL client start-up: %v\n", err)
		fmt.Println("gotfe-check: 0 passed, 1 failed")
		os.Exit(1)
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	c := &checker{}
	s := &suite{client: client, base: base, token: *token, ctx: ctx, retries429: &retries429, runLocks: *runLocks}

	c.run("client start-up reads ping headers", s.ping)
	c.run("read organization", s.readOrganization)
	c.run("list organizations", s.listOrganizations)
	c.run("list workspaces", s.listWorkspaces)
	c.run("search workspaces by name and tags", s.searchWorkspaces)
	c.run("read internal-vpn by name", s.readInternalVPN)
	c.run("payment-gateway is locked by a user", s.paymentGatewayLocked)
	c.run("lock and unlock frontend-cdn", s.lockUnlock)
	c.run("unlock refused on a workspace locked by another user", s.unlockOthersLock)
	c.run("force-unlock core-network", s.forceUnlock)
	c.run("run: create and wait until confirmable", s.runUntilConfirmable)
	c.run("workspace lock while a run waits for confirmation", s.unlockRunLock)
	c.run("run: apply and wait until applied", s.runApply)
	c.run("apply refused on an applied run", s.applyTwice)
	c.run("plan and apply resources", s.planAndApply)
	c.run("list runs of a workspace", s.listRuns)
	c.run("plan-only run finishes without apply", s.planOnlyRun)
	c.run("auto-apply run applies without being confirmable", s.autoApplyRun)
	c.run("current state version after apply", s.stateAfterApply)
	c.run("internal-vpn current state version", s.internalVPNState)
	c.run("state version outputs (list)", s.listOutputs)
	c.run("current state version outputs", s.currentOutputs)
	c.run("read sensitive output reveals value", s.revealSensitive)
	c.run("go-tfe StateVersions.Download against the blob origin", s.goTFEDownload)
	c.run("download JSON state without credentials", s.downloadJSONState)
	c.run("download raw state without credentials", s.downloadRawState)
	c.run("list policies", s.listPolicies)
	c.run("search and read a policy", s.readPolicy)
	c.run("workspace resources, remote state consumers, registry, no-code modules, stacks", s.areasWorkspaceInsights)
	c.run("organization areas: tag bindings, teams, memberships, project access, VCS, SSH keys", s.orgAreas)
	c.run("variable sets, run tasks, task stages and policy evaluations", s.varsetsRunTasksAndStages)
	c.run("run read with include=plan,apply", s.runWithIncludes)
	c.run("workspace read with include=current_run,project", s.workspaceWithIncludes)
	c.run("create a project and a workspace in it", s.projectCreate)
	c.run("404 maps to ErrResourceNotFound", s.notFound)
	c.run("401 maps to ErrUnauthorized", s.unauthorized)
	c.run("429 is retried using X-RateLimit-Reset", s.rateLimited)

	fmt.Printf("gotfe-check: %d passed, %d failed\n", c.passed, c.failed)
	if c.failed > 0 {
		os.Exit(1)
	}
}

type suite struct {
	client     *tfe.Client
	base       string
	token      string
	ctx        context.Context
	retries429 *atomic.Int64
	runLocks   bool

	runID       string
	runWSID     string
	vpnWSID     string
	vpnSV       *tfe.StateVersion
	pskOutputID string
}

func (s *suite) workspace(name string) (*tfe.Workspace, error) {
	return s.client.Workspaces.Read(s.ctx, org, name)
}

func (s *suite) ping() (string, error) {
	if v := s.client.RemoteAPIVersion(); v != "2.6" {
		return "", fmt.Errorf("TFP-API-Version = %q, want 2.6", v)
	}
	if !s.client.IsCloud() {
		return "", fmt.Errorf("IsCloud() = false (TFP-AppName = %q)", s.client.AppName())
	}
	return fmt.Sprintf("api %s, %s, tfe %s", s.client.RemoteAPIVersion(), s.client.AppName(), s.client.RemoteTFEVersion()), nil
}

func (s *suite) readOrganization() (string, error) {
	o, err := s.client.Organizations.Read(s.ctx, org)
	if err != nil {
		return "", err
	}
	if o.Name != org || !strings.HasPrefix(o.ExternalID, "org-") || o.CreatedAt.IsZero() || o.Permissions == nil {
		return "", fmt.Errorf("unexpected organization %+v", o)
	}
	return o.Name + " " + o.ExternalID, nil
}

func (s *suite) listOrganizations() (string, error) {
	l, err := s.client.Organizations.List(s.ctx, nil)
	if err != nil {
		return "", err
	}
	names := map[string]bool{}
	for _, o := range l.Items {
		names[o.Name] = true
	}
	if !names[org] || !names["globex"] || l.Pagination == nil || l.TotalCount != len(l.Items) {
		return "", fmt.Errorf("got %v (pagination %+v)", names, l.Pagination)
	}
	return fmt.Sprintf("%d organizations", len(l.Items)), nil
}

func (s *suite) listWorkspaces() (string, error) {
	seen := map[string]bool{}
	pages := 0
	total := 0
	for page := 1; page != 0; {
		l, err := s.client.Workspaces.List(s.ctx, org, &tfe.WorkspaceListOptions{ListOptions: tfe.ListOptions{PageNumber: page}})
		if err != nil {
			return "", fmt.Errorf("page %d: %w", page, err)
		}
		if l.Pagination == nil {
			return "", errors.New("no pagination in list response")
		}
		pages++
		total = l.TotalCount
		for _, w := range l.Items {
			if !strings.HasPrefix(w.ID, "ws-") || w.Organization == nil || w.Organization.Name != org {
				return "", fmt.Errorf("bad workspace %q (%s)", w.Name, w.ID)
			}
			if seen[w.Name] {
				return "", fmt.Errorf("workspace %q listed twice", w.Name)
			}
			seen[w.Name] = true
		}
		if pages > 10 {
			return "", errors.New("pagination does not end")
		}
		page = l.NextPage
	}
	if len(seen) != total || total != 25 || pages != 2 {
		return "", fmt.Errorf("%d workspaces across %d pages, total-count %d; want 25 across 2", len(seen), pages, total)
	}
	for _, n := range []string{"payment-gateway", "internal-vpn", "frontend-cdn", "core-network", "prod-database-cluster"} {
		if !seen[n] {
			return "", fmt.Errorf("workspace %q missing", n)
		}
	}
	return fmt.Sprintf("%d across %d pages", len(seen), pages), nil
}

func (s *suite) searchWorkspaces() (string, error) {
	byName, err := s.client.Workspaces.List(s.ctx, org, &tfe.WorkspaceListOptions{Search: "network"})
	if err != nil {
		return "", err
	}
	names := []string{}
	for _, w := range byName.Items {
		names = append(names, w.Name)
	}
	if !contains(names, "core-network") {
		return "", fmt.Errorf("search[name]=network gave %v", names)
	}
	byTag, err := s.client.Workspaces.List(s.ctx, org, &tfe.WorkspaceListOptions{Tags: "network,prod"})
	if err != nil {
		return "", err
	}
	tagged := []string{}
	for _, w := range byTag.Items {
		tagged = append(tagged, w.Name)
		if !contains(w.TagNames, "network") {
			return "", fmt.Errorf("%s lacks tag network: %v", w.Name, w.TagNames)
		}
	}
	if !contains(tagged, "internal-vpn") || !contains(tagged, "core-network") {
		return "", fmt.Errorf("search[tags]=network,prod gave %v", tagged)
	}
	return fmt.Sprintf("name: %v; tags: %v", names, tagged), nil
}

func contains(items []string, want string) bool {
	for _, i := range items {
		if i == want {
			return true
		}
	}
	return false
}

func (s *suite) readInternalVPN() (string, error) {
	w, err := s.workspace("internal-vpn")
	if err != nil {
		return "", err
	}
	if w.Name != "internal-vpn" || w.CurrentStateVersion == nil || w.Project == nil || w.Permissions == nil || w.Actions == nil {
		return "", fmt.Errorf("unexpected workspace %+v", w)
	}
	if w.CreatedAt.IsZero() || w.ResourceCount == 0 || len(w.Outputs) != 3 {
		return "", fmt.Errorf("created-at %v, resource-count %d, outputs %d", w.CreatedAt, w.ResourceCount, len(w.Outputs))
	}
	s.vpnWSID = w.ID
	byID, err := s.client.Workspaces.ReadByID(s.ctx, w.ID)
	if err != nil {
		return "", fmt.Errorf("read by id: %w", err)
	}
	if byID.Name != w.Name {
		return "", fmt.Errorf("read by id gave %q", byID.Name)
	}
	return fmt.Sprintf("%s, %d resources, state %s", w.ID, w.ResourceCount, w.CurrentStateVersion.ID), nil
}

func (s *suite) paymentGatewayLocked() (string, error) {
	w, err := s.workspace("payment-gateway")
	if err != nil {
		return "", err
	}
	if !w.Locked || w.LockedBy == nil || w.LockedBy.User == nil {
		return "", fmt.Errorf("locked=%v lockedBy=%+v", w.Locked, w.LockedBy)
	}
	return "locked by " + w.LockedBy.User.ID, nil
}

func (s *suite) lockUnlock() (string, error) {
	w, err := s.workspace("frontend-cdn")
	if err != nil {
		return "", err
	}
	reason := "gotfe-check"
	locked, err := s.client.Workspaces.Lock(s.ctx, w.ID, tfe.WorkspaceLockOptions{Reason: &reason})
	if err != nil {
		return "", fmt.Errorf("lock: %w", err)
	}
	if !locked.Locked || locked.LockedBy == nil || locked.LockedBy.User == nil {
		return "", fmt.Errorf("after lock: locked=%v lockedBy=%+v", locked.Locked, locked.LockedBy)
	}
	if _, err := s.client.Workspaces.Lock(s.ctx, w.ID, tfe.WorkspaceLockOptions{}); !errors.Is(err, tfe.ErrWorkspaceLocked) {
		return "", fmt.Errorf("second lock: got %v, want ErrWorkspaceLocked", err)
	}
	unlocked, err := s.client.Workspaces.Unlock(s.ctx, w.ID)
	if err != nil {
		return "", fmt.Errorf("unlock: %w", err)
	}
	if unlocked.Locked || (unlocked.LockedBy != nil && (unlocked.LockedBy.User != nil || unlocked.LockedBy.Run != nil)) {
		return "", fmt.Errorf("after unlock: locked=%v lockedBy=%+v", unlocked.Locked, unlocked.LockedBy)
	}
	if _, err := s.client.Workspaces.Unlock(s.ctx, w.ID); !errors.Is(err, tfe.ErrWorkspaceNotLocked) {
		return "", fmt.Errorf("second unlock: got %v, want ErrWorkspaceNotLocked", err)
	}
	return "409 on double lock and double unlock", nil
}

func (s *suite) unlockOthersLock() (string, error) {
	w, err := s.workspace("payment-gateway")
	if err != nil {
		return "", err
	}
	if _, err := s.client.Workspaces.Unlock(s.ctx, w.ID); !errors.Is(err, tfe.ErrWorkspaceLockedByUser) {
		return "", fmt.Errorf("got %v, want ErrWorkspaceLockedByUser", err)
	}
	after, err := s.client.Workspaces.ReadByID(s.ctx, w.ID)
	if err != nil {
		return "", err
	}
	if !after.Locked {
		return "", errors.New("payment-gateway got unlocked")
	}
	return "ErrWorkspaceLockedByUser; payment-gateway stays locked", nil
}

func (s *suite) forceUnlock() (string, error) {
	w, err := s.workspace("core-network")
	if err != nil {
		return "", err
	}
	if _, err := s.client.Workspaces.Lock(s.ctx, w.ID, tfe.WorkspaceLockOptions{}); err != nil {
		return "", fmt.Errorf("lock: %w", err)
	}
	after, err := s.client.Workspaces.ForceUnlock(s.ctx, w.ID)
	if err != nil {
		return "", fmt.Errorf("force-unlock: %w", err)
	}
	if after.Locked {
		return "", errors.New("still locked after force-unlock")
	}
	if _, err := s.client.Workspaces.ForceUnlock(s.ctx, w.ID); !errors.Is(err, tfe.ErrWorkspaceNotLocked) {
		return "", fmt.Errorf("second force-unlock: got %v, want ErrWorkspaceNotLocked", err)
	}
	return "409 when not locked", nil
}

// waitRun polls Runs.Read until done returns true.
func (s *suite) waitRun(id string, done func(*tfe.Run) bool) (*tfe.Run, []string, error) {
	var statuses []string
	for {
		r, err := s.client.Runs.Read(s.ctx, id)
		if err != nil {
			return nil, statuses, err
		}
		if len(statuses) == 0 || statuses[len(statuses)-1] != string(r.Status) {
			statuses = append(statuses, string(r.Status))
		}
		if done(r) {
			return r, statuses, nil
		}
		select {
		case <-s.ctx.Done():
			return nil, statuses, fmt.Errorf("timed out; statuses seen %v", statuses)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *suite) runUntilConfirmable() (string, error) {
	w, err := s.workspace("frontend-cdn")
	if err != nil {
		return "", err
	}
	msg := "gotfe-check run"
	r, err := s.client.Runs.Create(s.ctx, tfe.RunCreateOptions{Workspace: w, Message: &msg})
	if err != nil {
		return "", err
	}
	if r.Status != tfe.RunPending || r.Workspace == nil || r.Workspace.ID != w.ID || r.Plan == nil || r.Apply == nil || r.Message != msg {
		return "", fmt.Errorf("unexpected new run %+v", r)
	}
	s.runID, s.runWSID = r.ID, w.ID
	r, statuses, err := s.waitRun(r.ID, func(r *tfe.Run) bool { return r.Actions != nil && r.Actions.IsConfirmable })
	if err != nil {
		return "", err
	}
	if r.Status != tfe.RunPlanned || r.StatusTimestamps == nil || r.StatusTimestamps.PlannedAt.IsZero() {
		return "", fmt.Errorf("confirmable run in status %s, timestamps %+v", r.Status, r.StatusTimestamps)
	}
	return fmt.Sprintf("%s: %s", r.ID, strings.Join(statuses, " -> ")), nil
}

func (s *suite) unlockRunLock() (string, error) {
	if s.runWSID == "" {
		return "", errors.New("no run (previous check failed)")
	}
	w, err := s.client.Workspaces.ReadByID(s.ctx, s.runWSID)
	if err != nil {
		return "", err
	}
	if !s.runLocks {
		if w.Locked {
			return "", fmt.Errorf("workspace locked (by %+v) although run locks are off", w.LockedBy)
		}
		return "run locks off: workspace stays unlocked", nil
	}
	if !w.Locked || w.LockedBy == nil || w.LockedBy.Run == nil || w.LockedBy.Run.ID != s.runID {
		return "", fmt.Errorf("locked=%v lockedBy=%+v, want the run %s", w.Locked, w.LockedBy, s.runID)
	}
	if _, err := s.client.Workspaces.Unlock(s.ctx, s.runWSID); !errors.Is(err, tfe.ErrWorkspaceLockedByRun) {
		return "", fmt.Errorf("got %v, want ErrWorkspaceLockedByRun", err)
	}
	return "locked by the run; unlock gives ErrWorkspaceLockedByRun", nil
}

func (s *suite) runApply() (string, error) {
	if s.runID == "" {
		return "", errors.New("no run (previous check failed)")
	}
	comment := "looks good"
	if err := s.client.Runs.Apply(s.ctx, s.runID, tfe.RunApplyOptions{Comment: &comment}); err != nil {
		return "", err
	}
	r, statuses, err := s.waitRun(s.runID, func(r *tfe.Run) bool { return r.Status == tfe.RunApplied || r.Status == tfe.RunErrored })
	if err != nil {
		return "", err
	}
	if r.Status != tfe.RunApplied || r.StatusTimestamps.AppliedAt.IsZero() || r.StatusTimestamps.ConfirmedAt.IsZero() {
		return "", fmt.Errorf("status %s, timestamps %+v", r.Status, r.StatusTimestamps)
	}
	if r.Actions.IsConfirmable || r.Actions.IsCancelable {
		return "", fmt.Errorf("applied run still has actions %+v", r.Actions)
	}
	return strings.Join(statuses, " -> "), nil
}

func (s *suite) applyTwice() (string, error) {
	if s.runID == "" {
		return "", errors.New("no run (previous check failed)")
	}
	err := s.client.Runs.Apply(s.ctx, s.runID, tfe.RunApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "applied") {
		return "", fmt.Errorf("got %v, want a 409 naming the status", err)
	}
	return strings.Join(strings.Fields(err.Error()), " "), nil
}

func (s *suite) planAndApply() (string, error) {
	if s.runID == "" {
		return "", errors.New("no run (previous check failed)")
	}
	r, err := s.client.Runs.Read(s.ctx, s.runID)
	if err != nil {
		return "", err
	}
	p, err := s.client.Plans.Read(s.ctx, r.Plan.ID)
	if err != nil {
		return "", fmt.Errorf("plan: %w", err)
	}
	a, err := s.client.Applies.Read(s.ctx, r.Apply.ID)
	if err != nil {
		return "", fmt.Errorf("apply: %w", err)
	}
	if p.Status != tfe.PlanFinished || !p.HasChanges || p.StatusTimestamps == nil || p.StatusTimestamps.FinishedAt.IsZero() {
		return "", fmt.Errorf("plan %+v", p)
	}
	if a.Status != tfe.ApplyFinished || a.StatusTimestamps == nil || a.StatusTimestamps.FinishedAt.IsZero() {
		return "", fmt.Errorf("apply %+v", a)
	}
	return fmt.Sprintf("plan %s %s (+%d ~%d -%d), apply %s %s", p.ID, p.Status, p.ResourceAdditions, p.ResourceChanges, p.ResourceDestructions, a.ID, a.Status), nil
}

func (s *suite) listRuns() (string, error) {
	if s.runWSID == "" {
		return "", errors.New("no run (previous check failed)")
	}
	l, err := s.client.Runs.List(s.ctx, s.runWSID, &tfe.RunListOptions{Status: "applied"})
	if err != nil {
		return "", err
	}
	if l.Pagination == nil || len(l.Items) == 0 || l.Items[0].ID != s.runID {
		return "", fmt.Errorf("got %d runs, first %v", len(l.Items), l.Items)
	}
	none, err := s.client.Runs.List(s.ctx, s.runWSID, &tfe.RunListOptions{Status: "planning"})
	if err != nil {
		return "", err
	}
	if len(none.Items) != 0 {
		return "", fmt.Errorf("filter[status]=planning gave %d runs", len(none.Items))
	}
	return fmt.Sprintf("%d applied", len(l.Items)), nil
}

func (s *suite) planOnlyRun() (string, error) {
	w, err := s.workspace("prod-database-cluster")
	if err != nil {
		return "", err
	}
	planOnly := true
	r, err := s.client.Runs.Create(s.ctx, tfe.RunCreateOptions{Workspace: w, PlanOnly: &planOnly})
	if err != nil {
		return "", err
	}
	r, statuses, err := s.waitRun(r.ID, func(r *tfe.Run) bool { return r.Status == tfe.RunPlannedAndFinished || r.Status == tfe.RunErrored })
	if err != nil {
		return "", err
	}
	if r.Status != tfe.RunPlannedAndFinished || !r.PlanOnly || r.Actions.IsConfirmable {
		return "", fmt.Errorf("run %+v", r)
	}
	return strings.Join(statuses, " -> "), nil
}

// autoApplyRun: an auto-apply run goes on from planned to applied by itself
// and is never confirmable (HCP Terraform), on a workspace of its own.
func (s *suite) autoApplyRun() (string, error) {
	ws, err := s.client.Workspaces.Create(s.ctx, org, tfe.WorkspaceCreateOptions{Name: tfe.String("gotfe-auto-apply")})
	if err != nil {
		return "", fmt.Errorf("create workspace: %v", err)
	}
	defer func() { _ = s.client.Workspaces.DeleteByID(s.ctx, ws.ID) }()
	autoApply := true
	r, err := s.client.Runs.Create(s.ctx, tfe.RunCreateOptions{Workspace: ws, AutoApply: &autoApply})
	if err != nil {
		return "", err
	}
	confirmable := false
	r, statuses, err := s.waitRun(r.ID, func(r *tfe.Run) bool {
		confirmable = confirmable || (r.Actions != nil && r.Actions.IsConfirmable)
		return r.Status == tfe.RunApplied || r.Status == tfe.RunErrored
	})
	if err != nil {
		return "", err
	}
	if r.Status != tfe.RunApplied || !r.AutoApply || confirmable {
		return "", fmt.Errorf("auto-apply run ended %s (auto-apply %v, confirmable seen %v): %v", r.Status, r.AutoApply, confirmable, statuses)
	}
	return strings.Join(statuses, " -> "), nil
}

func (s *suite) stateAfterApply() (string, error) {
	if s.runWSID == "" {
		return "", errors.New("no run (previous check failed)")
	}
	sv, err := s.client.StateVersions.ReadCurrent(s.ctx, s.runWSID)
	if err != nil {
		return "", err
	}
	if sv.Run == nil || sv.Run.ID != s.runID || sv.Serial < 1 || sv.Status != tfe.StateVersionFinalized {
		return "", fmt.Errorf("state version %+v", sv)
	}
	return fmt.Sprintf("%s serial %d written by %s", sv.ID, sv.Serial, sv.Run.ID), nil
}

func (s *suite) internalVPNState() (string, error) {
	if s.vpnWSID == "" {
		return "", errors.New("no workspace id (previous check failed)")
	}
	sv, err := s.client.StateVersions.ReadCurrent(s.ctx, s.vpnWSID)
	if err != nil {
		return "", err
	}
	if !sv.ResourcesProcessed || sv.Serial == 0 || sv.TerraformVersion == "" || len(sv.Resources) == 0 || len(sv.Outputs) != 3 {
		return "", fmt.Errorf("state version %+v", sv)
	}
	if !strings.HasPrefix(sv.DownloadURL, "http") || !strings.HasPrefix(sv.JSONDownloadURL, "http") || strings.HasPrefix(sv.DownloadURL, s.base) {
		return "", fmt.Errorf("download URLs %q / %q should point at the blob origin, not %s", sv.DownloadURL, sv.JSONDownloadURL, s.base)
	}
	s.vpnSV = sv
	return fmt.Sprintf("%s serial %d, %d resources, terraform %s", sv.ID, sv.Serial, len(sv.Resources), sv.TerraformVersion), nil
}

func (s *suite) checkVPNOutputs(outputs []*tfe.StateVersionOutput) (string, error) {
	byName := map[string]*tfe.StateVersionOutput{}
	for _, o := range outputs {
		byName[o.Name] = o
	}
	alg := byName["vpn_encryption_algorithm"]
	if alg == nil || alg.Value != "AES-128" || alg.Sensitive || alg.Type != "string" {
		return "", fmt.Errorf("vpn_encryption_algorithm = %+v", alg)
	}
	ip := byName["vpn_gateway_ip"]
	if ip == nil || ip.Value != "10.20.0.1" {
		return "", fmt.Errorf("vpn_gateway_ip = %+v", ip)
	}
	psk := byName["vpn_psk"]
	if psk == nil || !psk.Sensitive || psk.Value != nil {
		return "", fmt.Errorf("vpn_psk = %+v, want sensitive with nil value", psk)
	}
	s.pskOutputID = psk.ID
	return fmt.Sprintf("%d outputs, vpn_encryption_algorithm=%v, vpn_psk hidden", len(outputs), alg.Value), nil
}

func (s *suite) listOutputs() (string, error) {
	if s.vpnSV == nil {
		return "", errors.New("no state version (previous check failed)")
	}
	l, err := s.client.StateVersions.ListOutputs(s.ctx, s.vpnSV.ID, nil)
	if err != nil {
		return "", err
	}
	if l.Pagination == nil {
		return "", errors.New("no pagination")
	}
	return s.checkVPNOutputs(l.Items)
}

func (s *suite) currentOutputs() (string, error) {
	if s.vpnWSID == "" {
		return "", errors.New("no workspace id (previous check failed)")
	}
	l, err := s.client.StateVersionOutputs.ReadCurrent(s.ctx, s.vpnWSID)
	if err != nil {
		return "", err
	}
	return s.checkVPNOutputs(l.Items)
}

func (s *suite) revealSensitive() (string, error) {
	if s.pskOutputID == "" {
		return "", errors.New("no output id (previous check failed)")
	}
	o, err := s.client.StateVersionOutputs.Read(s.ctx, s.pskOutputID)
	if err != nil {
		return "", err
	}
	v, ok := o.Value.(string)
	if !ok || v == "" || !o.Sensitive {
		return "", fmt.Errorf("vpn_psk = %+v", o)
	}
	return fmt.Sprintf("%d characters", len(v)), nil
}

// goTFEDownload documents how go-tfe and the blob origin interact: go-tfe's
// Download attaches "Authorization: Bearer <token>" to every request, also
// to the archivist URL, and the simulator's blob origin refuses any request
// with credentials (so tests catch clients that leak tokens to it). The
// check passes when the refusal is a clean 400 carrying the simulator's
// message, and fails if the download unexpectedly succeeds or errors oddly.
func (s *suite) goTFEDownload() (string, error) {
	if s.vpnSV == nil {
		return "", errors.New("no state version (previous check failed)")
	}
	body, err := s.client.StateVersions.Download(s.ctx, s.vpnSV.JSONDownloadURL)
	if err == nil {
		return "", fmt.Errorf("download with the API token succeeded (%d bytes); the blob origin should refuse credentials", len(body))
	}
	if !strings.Contains(err.Error(), "Authorization") {
		return "", fmt.Errorf("unexpected error: %v", err)
	}
	return "refused as designed: go-tfe sends the API token to the blob URL", nil
}

func (s *suite) fetchBlob(url string) (map[string]any, error) {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, raw)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", url, err)
	}
	return doc, nil
}

func (s *suite) downloadJSONState() (string, error) {
	if s.vpnSV == nil {
		return "", errors.New("no state version (previous check failed)")
	}
	doc, err := s.fetchBlob(s.vpnSV.JSONDownloadURL)
	if err != nil {
		return "", err
	}
	values, _ := doc["values"].(map[string]any)
	outputs, _ := values["outputs"].(map[string]any)
	alg, _ := outputs["vpn_encryption_algorithm"].(map[string]any)
	if doc["format_version"] == nil || alg["value"] != "AES-128" {
		return "", fmt.Errorf("JSON state outputs %v", outputs)
	}
	root, _ := values["root_module"].(map[string]any)
	resources, _ := root["resources"].([]any)
	if len(resources) == 0 {
		return "", errors.New("JSON state has no resources")
	}
	return fmt.Sprintf("%d outputs, %d resources", len(outputs), len(resources)), nil
}

func (s *suite) downloadRawState() (string, error) {
	if s.vpnSV == nil {
		return "", errors.New("no state version (previous check failed)")
	}
	doc, err := s.fetchBlob(s.vpnSV.DownloadURL)
	if err != nil {
		return "", err
	}
	if doc["version"] != float64(4) || doc["serial"] != float64(s.vpnSV.Serial) || doc["lineage"] == nil {
		return "", fmt.Errorf("raw state header version=%v serial=%v", doc["version"], doc["serial"])
	}
	return fmt.Sprintf("version 4, serial %v", doc["serial"]), nil
}

func (s *suite) listPolicies() (string, error) {
	l, err := s.client.Policies.List(s.ctx, org, nil)
	if err != nil {
		return "", err
	}
	want := map[string]tfe.EnforcementLevel{
		"require-encryption-aes256": tfe.EnforcementHard,
		"restrict-instance-types":   tfe.EnforcementSoft,
		"tagging-standards":         tfe.EnforcementAdvisory,
	}
	got := map[string]*tfe.Policy{}
	for _, p := range l.Items {
		got[p.Name] = p
	}
	for name, level := range want {
		p := got[name]
		if p == nil {
			return "", fmt.Errorf("policy %s missing", name)
		}
		if p.EnforcementLevel != level || p.PolicySetCount < 1 || (p.Kind != tfe.Sentinel && p.Kind != tfe.OPA) || p.UpdatedAt.IsZero() {
			return "", fmt.Errorf("policy %s = %+v", name, p)
		}
	}
	return fmt.Sprintf("%d policies, levels decode", len(l.Items)), nil
}

func (s *suite) readPolicy() (string, error) {
	l, err := s.client.Policies.List(s.ctx, org, &tfe.PolicyListOptions{Search: "tagging"})
	if err != nil {
		return "", err
	}
	if len(l.Items) != 1 {
		return "", fmt.Errorf("search[name]=tagging gave %d policies", len(l.Items))
	}
	p, err := s.client.Policies.Read(s.ctx, l.Items[0].ID)
	if err != nil {
		return "", err
	}
	if p.Name != "tagging-standards" || p.Kind != tfe.OPA || p.Query == nil || p.Organization == nil {
		return "", fmt.Errorf("policy %+v", p)
	}
	return fmt.Sprintf("%s %s %s", p.ID, p.Kind, p.EnforcementLevel), nil
}

func (s *suite) notFound() (string, error) {
	if _, err := s.client.Workspaces.Read(s.ctx, org, "no-such-workspace"); !errors.Is(err, tfe.ErrResourceNotFound) {
		return "", fmt.Errorf("workspace: got %v", err)
	}
	if _, err := s.client.Runs.Read(s.ctx, "run-doesNotExist0000"); !errors.Is(err, tfe.ErrResourceNotFound) {
		return "", fmt.Errorf("run: got %v", err)
	}
	if _, err := s.client.Organizations.Read(s.ctx, "no-such-org"); !errors.Is(err, tfe.ErrResourceNotFound) {
		return "", fmt.Errorf("organization: got %v", err)
	}
	return "", nil
}

func (s *suite) unauthorized() (string, error) {
	bad, err := tfe.NewClient(&tfe.Config{Address: s.base, Token: "not-a-valid-token"})
	if err != nil {
		return "", fmt.Errorf("client start-up with a bad token: %w", err)
	}
	if _, err := bad.Workspaces.List(s.ctx, org, nil); !errors.Is(err, tfe.ErrUnauthorized) {
		return "", fmt.Errorf("got %v, want ErrUnauthorized", err)
	}
	return "", nil
}

// simPut calls one of the simulator's /_sim test controls.
func (s *suite) simPut(path, body string) error {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPut, s.base+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("PUT %s: %d", path, resp.StatusCode)
	}
	return nil
}

func (s *suite) rateLimited() (string, error) {
	if err := s.simPut("/_sim/rate-limit", `{"limit": 3}`); err != nil {
		return "", err
	}
	defer s.simPut("/_sim/rate-limit", `{"limit": 0}`) //nolint:errcheck
	before := s.retries429.Load()
	start := time.Now()
	const n = 10
	for i := 0; i < n; i++ {
		if _, err := s.client.Organizations.Read(s.ctx, org); err != nil {
			return "", fmt.Errorf("request %d: %w", i, err)
		}
	}
	retried := s.retries429.Load() - before
	if retried == 0 {
		return "", errors.New("no 429 was seen with a limit of 3 per second")
	}
	return fmt.Sprintf("%d requests ok after %d retried 429s in %s", n, retried, time.Since(start).Round(10*time.Millisecond)), nil
}

// areasWorkspaceInsights reads the issue-8 areas with go-tfe's own types:
// a 500-resource workspace page, remote state consumers, a private module
// by name, a private provider's versions, a no-code module and stacks.
func (s *suite) areasWorkspaceInsights() (string, error) {
	core, err := s.workspace("core-network")
	if err != nil {
		return "", err
	}
	res, err := s.client.WorkspaceResources.List(s.ctx, core.ID, &tfe.WorkspaceResourceListOptions{ListOptions: tfe.ListOptions{PageSize: 100}})
	if err != nil {
		return "", fmt.Errorf("workspace resources: %w", err)
	}
	if res.Pagination == nil || res.Pagination.TotalCount != 500 || len(res.Items) != 100 || res.Items[0].Address == "" {
		return "", fmt.Errorf("workspace resources: want 500 in pages of 100, got %+v", res.Pagination)
	}
	pg, err := s.workspace("payment-gateway")
	if err != nil {
		return "", err
	}
	consumers, err := s.client.Workspaces.ListRemoteStateConsumers(s.ctx, pg.ID, nil)
	if err != nil || len(consumers.Items) != 1 || consumers.Items[0].Name != "frontend-cdn" {
		return "", fmt.Errorf("remote state consumers: %v %+v", err, consumers)
	}
	mod, err := s.client.RegistryModules.Read(s.ctx, tfe.RegistryModuleID{
		Organization: "acme-corp", Namespace: "acme-corp", Name: "vpc", Provider: "aws", RegistryName: tfe.PrivateRegistry,
	})
	if err != nil || len(mod.VersionStatuses) != 3 || mod.Organization == nil || mod.Organization.Name != "acme-corp" {
		return "", fmt.Errorf("registry module: %v %+v", err, mod)
	}
	versions, err := s.client.RegistryProviderVersions.List(s.ctx, tfe.RegistryProviderID{
		OrganizationName: "acme-corp", RegistryName: tfe.PrivateRegistry, Namespace: "acme-corp", Name: "internal",
	}, nil)
	if err != nil || len(versions.Items) != 3 {
		return "", fmt.Errorf("provider versions: %v %+v", err, versions)
	}
	nocode, err := s.client.RegistryNoCodeModules.Read(s.ctx, "nocode-AcmeBucket0001", nil)
	if err != nil || !nocode.Enabled || nocode.RegistryModule == nil || nocode.Organization == nil || nocode.Organization.Name != "acme-corp" {
		return "", fmt.Errorf("no-code module: %v %+v", err, nocode)
	}
	stacks, err := s.client.Stacks.List(s.ctx, "acme-corp", nil)
	if err != nil || len(stacks.Items) != 1 {
		return "", fmt.Errorf("stacks: %v %+v", err, stacks)
	}
	stack, err := s.client.Stacks.Read(s.ctx, stacks.Items[0].ID)
	if err != nil || stack.Name != "platform-stack" || stack.Project == nil || stack.Project.ID == "" {
		return "", fmt.Errorf("stack: %v %+v", err, stack)
	}
	return fmt.Sprintf("500 resources, 1 consumer, module with %d versions, %d provider versions, no-code module, stack %s",
		len(mod.VersionStatuses), len(versions.Items), stack.Name), nil
}

// runWithIncludes: go-tfe fills the included plan and apply into the run.
func (s *suite) runWithIncludes() (string, error) {
	if s.runID == "" {
		return "", fmt.Errorf("no run from an earlier check")
	}
	r, err := s.client.Runs.ReadWithOptions(s.ctx, s.runID, &tfe.RunReadOptions{Include: []tfe.RunIncludeOpt{tfe.RunPlan, tfe.RunApply}})
	if err != nil {
		return "", err
	}
	if r.Plan == nil || r.Plan.Status == "" || r.Apply == nil || r.Apply.Status == "" {
		return "", fmt.Errorf("included records not filled: plan %+v apply %+v", r.Plan, r.Apply)
	}
	return fmt.Sprintf("plan %s, apply %s", r.Plan.Status, r.Apply.Status), nil
}

// workspaceWithIncludes: the current run and the project come in the same document.
func (s *suite) workspaceWithIncludes() (string, error) {
	w, err := s.client.Workspaces.ReadWithOptions(s.ctx, "acme-corp", "internal-vpn",
		&tfe.WorkspaceReadOptions{Include: []tfe.WSIncludeOpt{tfe.WSCurrentRun, tfe.WSProject}})
	if err != nil {
		return "", err
	}
	if w.CurrentRun == nil || w.CurrentRun.Status == "" || w.Project == nil || w.Project.Name == "" {
		return "", fmt.Errorf("included records not filled: run %+v project %+v", w.CurrentRun, w.Project)
	}
	return fmt.Sprintf("current run %s (%s), project %s", w.CurrentRun.ID, w.CurrentRun.Status, w.Project.Name), nil
}

// orgAreas drives the organization areas with go-tfe: key-value tag
// bindings and the tagged workspace filter, team members, organization
// memberships, team access to projects, OAuth clients and tokens, GitHub App
// installations and workspace SSH keys. It adds and removes what it creates.
func (s *suite) orgAreas() (string, error) {
	ctx, c := s.ctx, s.client
	pg, err := s.workspace("payment-gateway")
	if err != nil {
		return "", err
	}
	own, err := c.Workspaces.ListTagBindings(ctx, pg.ID)
	if err != nil || len(own) != 2 {
		return "", fmt.Errorf("list tag bindings: %d, %v", len(own), err)
	}
	eff, err := c.Workspaces.ListEffectiveTagBindings(ctx, pg.ID)
	if err != nil || len(eff) != 3 {
		return "", fmt.Errorf("effective tag bindings: %d, %v", len(eff), err)
	}
	added, err := c.Workspaces.AddTagBindings(ctx, pg.ID, tfe.WorkspaceAddTagBindingsOptions{TagBindings: []*tfe.TagBinding{{Key: "gotfe", Value: "yes"}}})
	if err != nil || len(added) != 1 || added[0].Key != "gotfe" {
		return "", fmt.Errorf("add tag bindings: %v", err)
	}
	wl, err := c.Workspaces.List(ctx, org, &tfe.WorkspaceListOptions{TagBindings: []*tfe.TagBinding{{Key: "gotfe", Value: "yes"}}})
	if err != nil || len(wl.Items) != 1 || wl.Items[0].ID != pg.ID {
		return "", fmt.Errorf("list workspaces tagged gotfe:yes: %v", err)
	}
	prjBindings, err := c.Projects.ListTagBindings(ctx, pg.Project.ID)
	if err != nil || len(prjBindings) == 0 {
		return "", fmt.Errorf("project tag bindings: %v", err)
	}

	teams, err := c.Teams.List(ctx, org, nil)
	if err != nil || len(teams.Items) != 2 {
		return "", fmt.Errorf("list teams: %v", err)
	}
	var owners *tfe.Team
	for _, t := range teams.Items {
		if t.Name == "owners" {
			owners = t
		}
	}
	if owners == nil {
		return "", errors.New("no owners team")
	}
	if err := c.TeamMembers.Add(ctx, owners.ID, tfe.TeamMemberAddOptions{Usernames: []string{"alice"}}); err != nil {
		return "", fmt.Errorf("add team member: %w", err)
	}
	if err := c.TeamMembers.Remove(ctx, owners.ID, tfe.TeamMemberRemoveOptions{Usernames: []string{"alice"}}); err != nil {
		return "", fmt.Errorf("remove team member: %w", err)
	}

	members, err := c.OrganizationMemberships.List(ctx, org, &tfe.OrganizationMembershipListOptions{Status: tfe.OrganizationMembershipActive})
	if err != nil || len(members.Items) == 0 || members.Items[0].User == nil {
		return "", fmt.Errorf("list memberships: %v", err)
	}
	invited, err := c.OrganizationMemberships.Create(ctx, org, tfe.OrganizationMembershipCreateOptions{Email: tfe.String("gotfe@acme-corp.example")})
	if err != nil || invited.Status != tfe.OrganizationMembershipInvited {
		return "", fmt.Errorf("invite: %v", err)
	}
	if _, err := c.OrganizationMemberships.Read(ctx, invited.ID); err != nil {
		return "", fmt.Errorf("read membership: %w", err)
	}
	if err := c.OrganizationMemberships.Delete(ctx, invited.ID); err != nil {
		return "", fmt.Errorf("delete membership: %w", err)
	}

	tpa, err := c.TeamProjectAccess.Add(ctx, tfe.TeamProjectAccessAddOptions{
		Access: tfe.TeamProjectAccessRead, Team: owners, Project: &tfe.Project{ID: pg.Project.ID}})
	if err != nil {
		return "", fmt.Errorf("add team project access: %w", err)
	}
	tpal, err := c.TeamProjectAccess.List(ctx, tfe.TeamProjectAccessListOptions{ProjectID: pg.Project.ID})
	if err != nil || len(tpal.Items) < 2 {
		return "", fmt.Errorf("list team project access: %v", err)
	}
	if _, err := c.TeamProjectAccess.Update(ctx, tpa.ID, tfe.TeamProjectAccessUpdateOptions{Access: tfe.ProjectAccess(tfe.TeamProjectAccessWrite)}); err != nil {
		return "", fmt.Errorf("update team project access: %w", err)
	}
	if err := c.TeamProjectAccess.Remove(ctx, tpa.ID); err != nil {
		return "", fmt.Errorf("remove team project access: %w", err)
	}

	clients, err := c.OAuthClients.List(ctx, org, nil)
	if err != nil || len(clients.Items) != 1 || clients.Items[0].Secret != "" {
		return "", fmt.Errorf("list oauth clients: %v", err)
	}
	// go-tfe lists an organization's tokens (GET /organizations/:org/oauth-tokens).
	tokens, err := c.OAuthTokens.List(ctx, org, nil)
	if err != nil || len(tokens.Items) != 1 {
		return "", fmt.Errorf("list oauth tokens: %v", err)
	}
	token, err := c.OAuthTokens.Read(ctx, tokens.Items[0].ID)
	if err != nil || token.OAuthClient == nil || token.OAuthClient.ID != clients.Items[0].ID {
		return "", fmt.Errorf("read oauth token: %v", err)
	}
	installs, err := c.GHAInstallations.List(ctx, nil)
	if err != nil || len(installs.Items) != 1 {
		return "", fmt.Errorf("list GitHub App installations: %v", err)
	}
	if _, err := c.GHAInstallations.Read(ctx, *installs.Items[0].ID); err != nil {
		return "", fmt.Errorf("read GitHub App installation: %w", err)
	}

	keys, err := c.SSHKeys.List(ctx, org, nil)
	if err != nil || len(keys.Items) == 0 {
		return "", fmt.Errorf("list SSH keys: %v", err)
	}
	ws, err := c.Workspaces.AssignSSHKey(ctx, pg.ID, tfe.WorkspaceAssignSSHKeyOptions{SSHKeyID: tfe.String(keys.Items[0].ID)})
	if err != nil || ws.SSHKey == nil || ws.SSHKey.ID != keys.Items[0].ID {
		return "", fmt.Errorf("assign SSH key: %v", err)
	}
	ws, err = c.Workspaces.UnassignSSHKey(ctx, pg.ID)
	if err != nil || ws.SSHKey != nil {
		return "", fmt.Errorf("unassign SSH key: %v", err)
	}
	return fmt.Sprintf("%d effective tags, %d teams, %d members, %d OAuth clients", len(eff), len(teams.Items), len(members.Items), len(clients.Items)), nil
}

// varsetsRunTasksAndStages reads variable sets (by organization, workspace
// and project) and their variables, run tasks and workspace associations,
// then the seeded run waiting on its post-plan task stage: its task result,
// policy evaluation and policy-set outcome, and overrides the stage.
func (s *suite) varsetsRunTasksAndStages() (string, error) {
	sets, err := s.client.VariableSets.List(s.ctx, org, nil)
	if err != nil || len(sets.Items) == 0 {
		return "", fmt.Errorf("list variable sets: %v", err)
	}
	var aws *tfe.VariableSet
	for _, v := range sets.Items {
		if v.Name == "aws-credentials" {
			aws = v
		}
	}
	if aws == nil {
		return "", errors.New("aws-credentials variable set not listed")
	}
	vars, err := s.client.VariableSetVariables.List(s.ctx, aws.ID, nil)
	if err != nil {
		return "", fmt.Errorf("list set variables: %w", err)
	}
	for _, v := range vars.Items {
		if v.Sensitive && v.Value != "" {
			return "", fmt.Errorf("sensitive variable %s came back with a value", v.Key)
		}
	}
	key, value, cat := "GOTFE_CHECK", "v1", tfe.CategoryEnv
	created, err := s.client.VariableSetVariables.Create(s.ctx, aws.ID, &tfe.VariableSetVariableCreateOptions{Key: &key, Value: &value, Category: &cat})
	if err != nil {
		return "", fmt.Errorf("create set variable: %w", err)
	}
	desc := "updated"
	if _, err := s.client.VariableSetVariables.Update(s.ctx, aws.ID, created.ID, &tfe.VariableSetVariableUpdateOptions{Description: &desc}); err != nil {
		return "", fmt.Errorf("update set variable: %w", err)
	}
	if err := s.client.VariableSetVariables.Delete(s.ctx, aws.ID, created.ID); err != nil {
		return "", fmt.Errorf("delete set variable: %w", err)
	}
	pg, err := s.workspace("payment-gateway")
	if err != nil {
		return "", err
	}
	forWS, err := s.client.VariableSets.ListForWorkspace(s.ctx, pg.ID, nil)
	if err != nil || len(forWS.Items) == 0 {
		return "", fmt.Errorf("variable sets of payment-gateway: %v", err)
	}
	forPrj, err := s.client.VariableSets.ListForProject(s.ctx, "prj-AcmeDefault0001", nil)
	if err != nil || len(forPrj.Items) == 0 {
		return "", fmt.Errorf("variable sets of the default project: %v", err)
	}

	tasks, err := s.client.RunTasks.List(s.ctx, org, nil)
	if err != nil || len(tasks.Items) != 1 {
		return "", fmt.Errorf("list run tasks: %v", err)
	}
	task, err := s.client.RunTasks.Read(s.ctx, tasks.Items[0].ID)
	if err != nil {
		return "", fmt.Errorf("read run task: %w", err)
	}
	if task.HMACKey != nil && *task.HMACKey != "" {
		return "", errors.New("run task came back with its HMAC key")
	}
	ml, err := s.workspace("ml-training")
	if err != nil {
		return "", err
	}
	wsTasks, err := s.client.WorkspaceRunTasks.List(s.ctx, ml.ID, nil)
	if err != nil || len(wsTasks.Items) != 1 || wsTasks.Items[0].EnforcementLevel != tfe.Mandatory {
		return "", fmt.Errorf("workspace run tasks of ml-training: %v", err)
	}
	runs, err := s.client.Runs.List(s.ctx, ml.ID, &tfe.RunListOptions{Status: "post_plan_awaiting_decision"})
	if err != nil || len(runs.Items) != 1 {
		return "", fmt.Errorf("waiting run of ml-training: %v", err)
	}
	stages, err := s.client.TaskStages.List(s.ctx, runs.Items[0].ID, nil)
	if err != nil || len(stages.Items) != 1 {
		return "", fmt.Errorf("task stages: %v", err)
	}
	stage := stages.Items[0]
	if stage.Status != tfe.TaskStageAwaitingOverride || len(stage.TaskResults) != 1 || len(stage.PolicyEvaluations) != 1 {
		return "", fmt.Errorf("task stage %s: status %s, %d results, %d evaluations", stage.ID, stage.Status, len(stage.TaskResults), len(stage.PolicyEvaluations))
	}
	result, err := s.client.TaskResults.Read(s.ctx, stage.TaskResults[0].ID)
	if err != nil || result.Status != tfe.TaskFailed {
		return "", fmt.Errorf("task result: %v", err)
	}
	evals, err := s.client.PolicyEvaluations.List(s.ctx, stage.ID, nil)
	if err != nil || len(evals.Items) != 1 || evals.Items[0].Status != tfe.PolicyEvaluationFailed {
		return "", fmt.Errorf("policy evaluations: %v", err)
	}
	outcomes, err := s.client.PolicySetOutcomes.List(s.ctx, evals.Items[0].ID, nil)
	if err != nil || len(outcomes.Items) != 1 {
		return "", fmt.Errorf("policy set outcomes: %v", err)
	}
	outcome, err := s.client.PolicySetOutcomes.Read(s.ctx, outcomes.Items[0].ID)
	if err != nil || outcome.PolicySetName != "security-baseline" || len(outcome.Outcomes) != 2 {
		return "", fmt.Errorf("policy set outcome: %v", err)
	}
	over, err := s.client.TaskStages.Override(s.ctx, stage.ID, tfe.TaskStageOverrideOptions{})
	if err != nil || over.Status != tfe.TaskStagePassed {
		return "", fmt.Errorf("override task stage: %v", err)
	}
	run, err := s.client.Runs.Read(s.ctx, runs.Items[0].ID)
	if err != nil || string(run.Status) != "post_plan_completed" || !run.Actions.IsConfirmable {
		return "", fmt.Errorf("run after override: %v", err)
	}
	return fmt.Sprintf("%d sets, %d set variables, task %s, stage %s overridden, run %s", len(sets.Items), len(vars.Items), task.Name, stage.ID, run.Status), nil
}

// projectCreate creates a project and a workspace in it with go-tfe (what a
// server scoped to that project may do), reads both back and deletes the
// workspace again.
func (s *suite) projectCreate() (string, error) {
	ctx, c := s.ctx, s.client
	name := fmt.Sprintf("gotfe-%d", time.Now().UnixNano()%1000000)
	p, err := c.Projects.Create(ctx, org, tfe.ProjectCreateOptions{Name: name})
	if err != nil || p.Name != name || !strings.HasPrefix(p.ID, "prj-") {
		return "", fmt.Errorf("create project: %+v, %v", p, err)
	}
	if _, err := c.Projects.Create(ctx, org, tfe.ProjectCreateOptions{Name: name}); err == nil {
		return "", fmt.Errorf("a second project named %s was accepted", name)
	}
	read, err := c.Projects.Read(ctx, p.ID)
	if err != nil || read.Name != name {
		return "", fmt.Errorf("read project: %v", err)
	}
	ws, err := c.Workspaces.Create(ctx, org, tfe.WorkspaceCreateOptions{Name: tfe.String(name + "-ws"), Project: &tfe.Project{ID: p.ID}})
	if err != nil || ws.Project == nil || ws.Project.ID != p.ID {
		return "", fmt.Errorf("create workspace in project: %v", err)
	}
	if err := c.Workspaces.DeleteByID(ctx, ws.ID); err != nil {
		return "", fmt.Errorf("delete workspace: %v", err)
	}
	return p.ID, nil
}
