package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/typing"
)

// Admin-defined device types. A type is an admin rule (typing's "Admin
// rules") kept in the store as YAML. A draft is tried on a device's stored
// SNMP evidence before it is saved, with every other admin rule in place
// (the rules file's first, then the stored ones in order), so the test
// answers what the next scan will say. Scans pick saved rules up by
// themselves (the scan function rebuilds its classifier when the store's
// rules version moves); "re-classify" applies them at once to the devices
// whose evidence is stored.

// typeInput is what POST and PUT /types take. PUT starts from the stored
// rule, so fields left out keep their values.
type typeInput struct {
	Source   string `json:"source"`
	Enabled  *bool  `json:"enabled"`
	Position int    `json:"position"` // 0: after the last rule (POST), unchanged (PUT)
}

// typeTestInput is what POST /types/test takes: a draft, the device to try
// it on, and, when the draft edits a stored rule, that rule's id (the
// draft then stands in its place).
type typeTestInput struct {
	Source   string `json:"source"`
	DeviceID int64  `json:"device_id"`
	RuleID   int64  `json:"rule_id"`
}

// typeTest is the outcome of trying a draft on a device.
type typeTest struct {
	DeviceID int64  `json:"device_id"`
	IP       string `json:"ip"`
	Name     string `json:"name"`
	// Fired says whether the draft decided the device's category.
	Fired bool `json:"fired"`
	// DecidedBy names the admin rule that decided instead, when one did.
	DecidedBy string `json:"decided_by,omitempty"`
	// Result is the classification with the draft in place; Current is
	// the one stored for the device now.
	Result  typing.Result            `json:"result"`
	Current inventory.Classification `json:"current"`
	// Identified is set when an admin's identification of the device wins
	// over any classification.
	Identified *inventory.Identification `json:"identified,omitempty"`
}

// classifier builds the classifier scans use: the rules file's admin
// rules, then the stored ones. When draft is set it stands in for stored
// rule replace (or comes last, for a new rule), enabled or not.
func (s *Server) classifier(ctx context.Context, replace int64, draft *typing.Rule) (*typing.Classifier, error) {
	stored, err := s.store.TypeRules(ctx)
	if err != nil {
		return nil, err
	}
	rules := append([]typing.Rule{}, s.opts.Admin.FileRules...)
	placed := false
	for _, tr := range stored {
		if draft != nil && tr.ID == replace {
			rules, placed = append(rules, *draft), true
			continue
		}
		if !tr.Enabled {
			continue
		}
		r, err := inventory.ParseTypeRule(tr.Source)
		if err != nil {
			return nil, fmt.Errorf("type rule %q: %w", tr.Name, err)
		}
		rules = append(rules, r)
	}
	if draft != nil && !placed {
		rules = append(rules, *draft)
	}
	return typing.New(typing.Options{AdminRules: rules})
}

var errNoEvidence = fmt.Errorf("%w: this device never answered SNMP, so no rule can match it; pick one that did", inventory.ErrInvalid)

// testType tries a draft on a device.
func (s *Server) testType(ctx context.Context, in typeTestInput) (typeTest, error) {
	draft, err := inventory.ParseTypeRule(in.Source)
	if err != nil {
		return typeTest{}, err
	}
	det, err := s.store.Device(ctx, in.DeviceID)
	if err != nil {
		return typeTest{}, err
	}
	ev, err := s.store.DeviceEvidence(ctx, in.DeviceID)
	if err != nil {
		return typeTest{}, err
	}
	if ev == nil {
		return typeTest{}, errNoEvidence
	}
	cl, err := s.classifier(ctx, in.RuleID, &draft)
	if err != nil {
		return typeTest{}, err
	}
	input := typing.Input{Evidence: ev, MACVendor: det.MACVendor}
	if hw, err := net.ParseMAC(det.MAC); err == nil {
		input.MAC = hw
	}
	res := cl.Classify(input)
	t := typeTest{DeviceID: det.ID, IP: det.IP, Name: det.Name, Result: res, Current: det.Classification,
		Identified: det.Identification, Fired: res.Type != "" && res.Type == draft.Name}
	if !t.Fired && res.Type != "" {
		t.DecidedBy = res.Type
	}
	return t, nil
}

func (s *Server) apiTypes(c *gin.Context) {
	rules, err := s.store.TypeRules(c.Request.Context())
	if err != nil {
		s.storeError(c, err)
		return
	}
	pageOf(c, rules)
}

func (s *Server) apiType(c *gin.Context) { serveByID(s, c, s.store.TypeRule) }

func (s *Server) apiCreateType(c *gin.Context) {
	var in typeInput
	if !decodeJSON(c, &in) {
		return
	}
	r := inventory.TypeRule{Source: in.Source, Enabled: in.Enabled == nil || *in.Enabled, Position: in.Position,
		UpdatedBy: principalOf(c).actor()}
	saved, err := s.store.CreateTypeRule(c.Request.Context(), r)
	if err != nil {
		s.storeError(c, err)
		return
	}
	s.audit(c, "type.create", fmt.Sprintf("type/%d", saved.ID), typeDetails(saved))
	c.Header("Location", fmt.Sprintf("/api/v1/types/%d", saved.ID))
	c.JSON(http.StatusCreated, saved)
}

func typeDetails(r inventory.TypeRule) string {
	return fmt.Sprintf("%s (%s), position %d, enabled %v:\n%s", r.Name, r.Category, r.Position, r.Enabled, r.Source)
}

func (s *Server) apiUpdateType(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	old, err := s.store.TypeRule(c.Request.Context(), id)
	if err != nil {
		s.storeError(c, err)
		return
	}
	in := typeInput{Source: old.Source, Enabled: &old.Enabled}
	if !decodeJSON(c, &in) {
		return
	}
	saved, err := s.store.UpdateTypeRule(c.Request.Context(), inventory.TypeRule{ID: id, Source: in.Source,
		Enabled: in.Enabled == nil || *in.Enabled, Position: in.Position, UpdatedBy: principalOf(c).actor()})
	if err != nil {
		s.storeError(c, err)
		return
	}
	s.audit(c, "type.update", fmt.Sprintf("type/%d", id), typeDetails(saved))
	c.JSON(http.StatusOK, saved)
}

func (s *Server) apiDeleteType(c *gin.Context) {
	apiDeleteByID(s, c, "type.delete", "type", s.store.TypeRule, s.store.DeleteTypeRule,
		func(r inventory.TypeRule) string { return r.Name })
}

func (s *Server) apiTestType(c *gin.Context) {
	var in typeTestInput
	if !decodeJSON(c, &in) {
		return
	}
	t, err := s.testType(c.Request.Context(), in)
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusOK, t)
}

// reclassify applies the current rules to every device with stored
// evidence.
func (s *Server) reclassify(c *gin.Context) (inventory.ReclassifyStats, error) {
	cl, err := s.classifier(c.Request.Context(), 0, nil)
	if err != nil {
		return inventory.ReclassifyStats{}, err
	}
	st, err := s.store.ReclassifyDevices(c.Request.Context(), cl.Classify)
	if err != nil {
		return st, err
	}
	s.audit(c, "type.reclassify", "devices", fmt.Sprintf("%d devices checked, %d reclassified, %d changed category",
		st.Checked, st.Changed, st.CategoryChanged))
	return st, nil
}

func (s *Server) apiReclassify(c *gin.Context) {
	st, err := s.reclassify(c)
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

// The pages.

type typesData struct {
	Rules     []inventory.TypeRule
	FileRules []typing.Rule
	Notice    string
	Error     string
}

func (s *Server) typesPage(c *gin.Context) {
	notice := map[string]string{"saved": "Device type saved. Scans from now on use it; re-classify to apply it to devices already found.",
		"deleted": "Device type deleted."}[c.Query("done")]
	s.renderTypes(c, http.StatusOK, notice, "")
}

func (s *Server) renderTypes(c *gin.Context, status int, notice, errMsg string) {
	rules, err := s.store.TypeRules(c.Request.Context())
	if err != nil {
		s.pageError(c, err)
		return
	}
	s.render(c, status, "types.html", typesData{Rules: rules, FileRules: s.opts.Admin.FileRules, Notice: notice, Error: errMsg})
}

func (s *Server) reclassifyForm(c *gin.Context) {
	st, err := s.reclassify(c)
	if err != nil {
		s.pageError(c, err)
		return
	}
	s.renderTypes(c, http.StatusOK, fmt.Sprintf("Re-classified: %d devices with SNMP evidence checked, %d got a new classification, %d a new category.",
		st.Checked, st.Changed, st.CategoryChanged), "")
}

type typeData struct {
	Rule       inventory.TypeRule // ID 0: a new rule
	Source     string
	Enabled    bool
	Position   int
	Device     string // what the admin typed: a device id or address
	Test       *typeTest
	Error      string
	Categories []typing.Category
	// Choices are devices the test can use (they answered SNMP), most
	// recently seen first, for the device field's suggestions.
	Choices []deviceChoice
}

type deviceChoice struct{ IP, Label string }

// maxChoices bounds the suggestions: the field takes any id or address.
const maxChoices = 200

// deviceChoices lists recently seen devices with SNMP answers.
func (s *Server) deviceChoices(ctx context.Context) []deviceChoice {
	page, err := s.store.Devices(ctx, inventory.DeviceQuery{Sort: inventory.SortLastSeen, Desc: true, Limit: 1000})
	if err != nil {
		s.log.Warn("list devices for the type editor", "err", err)
		return nil
	}
	var out []deviceChoice
	for _, d := range page.Devices {
		if d.SNMP == nil || len(out) == maxChoices {
			continue
		}
		label := firstNonEmpty(d.Name, d.SNMP.SysName)
		if d.Model != "" || d.Vendor != "" {
			label = strings.TrimSpace(label + " · " + d.Vendor + " " + d.Model)
		}
		out = append(out, deviceChoice{IP: d.IP, Label: label + " (" + string(d.Category) + ")"})
	}
	return out
}

const newTypeSource = `name: My device type
category: other
when:
  - sysobjectid: [1.3.6.1.4.1.8072]
  - sysdescr: '(?i)example'
`

func (s *Server) newTypePage(c *gin.Context) {
	d := typeData{Source: newTypeSource, Enabled: true, Device: c.Query("device")}
	// Started from a device: propose its sysObjectID as the condition.
	if id, err := strconv.ParseInt(d.Device, 10, 64); err == nil {
		if det, err := s.store.Device(c.Request.Context(), id); err == nil && det.SNMP != nil && det.SNMP.SysObjectID != "" {
			d.Source = fmt.Sprintf("name: %s\ncategory: %s\nwhen:\n  - sysobjectid: [%s]\n",
				yamlString(firstNonEmpty(det.Model, det.Name, "My device type")), det.Category, det.SNMP.SysObjectID)
		}
	}
	s.renderType(c, http.StatusOK, d)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

// yamlString quotes s for a YAML scalar.
func yamlString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func (s *Server) typePage(c *gin.Context) {
	r, ok := loadPageByID(s, c, "device type", s.store.TypeRule)
	if !ok {
		return
	}
	s.renderType(c, http.StatusOK, typeData{Rule: r, Source: r.Source, Enabled: r.Enabled, Position: r.Position, Device: c.Query("device")})
}

func (s *Server) renderType(c *gin.Context, status int, d typeData) {
	d.Categories = typing.Categories
	d.Choices = s.deviceChoices(c.Request.Context())
	s.render(c, status, "admin_type.html", d)
}

// resolveDevice finds a device by id or by address (the first match).
func (s *Server) resolveDevice(ctx context.Context, v string) (int64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, fmt.Errorf("%w: choose a device to test on: its id or its address", inventory.ErrInvalid)
	}
	if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
		return id, nil
	}
	if net.ParseIP(v) == nil {
		return 0, fmt.Errorf("%w: %q is neither a device id nor an address", inventory.ErrInvalid, v)
	}
	page, err := s.store.Devices(ctx, inventory.DeviceQuery{Search: v, Limit: 50})
	if err != nil {
		return 0, err
	}
	for _, d := range page.Devices {
		if d.IP == v {
			return d.ID, nil
		}
	}
	return 0, fmt.Errorf("%w: no device has the address %s", inventory.ErrInvalid, v)
}

// typeForm saves or tests the editor's draft (new at /types/new, else
// the rule of the path).
func (s *Server) typeForm(c *gin.Context) {
	ctx := c.Request.Context()
	var old inventory.TypeRule
	if c.Param("id") != "" {
		var ok bool
		if old, ok = loadPageByID(s, c, "device type", s.store.TypeRule); !ok {
			return
		}
	}
	d := typeData{Rule: old, Source: c.PostForm("source"), Enabled: c.PostForm("enabled") == "on", Device: c.PostForm("device")}
	if v := strings.TrimSpace(c.PostForm("position")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			d.Error = fmt.Sprintf("position %q is not a number of 0 or more", v)
			s.renderType(c, http.StatusBadRequest, d)
			return
		}
		d.Position = n
	}
	fail := func(err error) {
		if msg, ok := s.formError(c, err); ok {
			d.Error = msg
			s.renderType(c, http.StatusBadRequest, d)
		}
	}
	if c.PostForm("action") == "test" {
		devID, err := s.resolveDevice(ctx, d.Device)
		if err != nil {
			fail(err)
			return
		}
		t, err := s.testType(ctx, typeTestInput{Source: d.Source, DeviceID: devID, RuleID: old.ID})
		if err != nil {
			fail(err)
			return
		}
		d.Test = &t
		s.renderType(c, http.StatusOK, d)
		return
	}
	r := inventory.TypeRule{ID: old.ID, Source: d.Source, Enabled: d.Enabled, Position: d.Position, UpdatedBy: principalOf(c).actor()}
	var saved inventory.TypeRule
	var err error
	action := "type.update"
	if old.ID == 0 {
		saved, err = s.store.CreateTypeRule(ctx, r)
		action = "type.create"
	} else {
		saved, err = s.store.UpdateTypeRule(ctx, r)
	}
	if err != nil {
		fail(err)
		return
	}
	s.audit(c, action, fmt.Sprintf("type/%d", saved.ID), typeDetails(saved))
	redirectDone(c, "/admin/types", "saved")
}

func (s *Server) deleteTypeForm(c *gin.Context) {
	id, ok := formID(c)
	if !ok {
		s.renderStatus(c, http.StatusNotFound, "Not found", "There is no such device type.")
		return
	}
	old, err := s.store.TypeRule(c.Request.Context(), id)
	if err == nil {
		err = s.store.DeleteTypeRule(c.Request.Context(), id)
	}
	if err != nil {
		if msg, ok := s.formError(c, err); ok {
			s.renderTypes(c, http.StatusNotFound, "", msg)
		}
		return
	}
	s.audit(c, "type.delete", fmt.Sprintf("type/%d", id), old.Name)
	redirectDone(c, "/admin/types", "deleted")
}
