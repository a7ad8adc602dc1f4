package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/inventory"
)

// Creating, changing and deleting subnets. The API and the pages both go
// through addSubnet, saveSubnet and removeSubnet, so a subnet is checked
// (subnetInput.subnet, then the store's Normalize), audited and
// re-elected the same way whichever way it came in.

// addSubnet creates a subnet from in and audits it.
func (s *Server) addSubnet(c *gin.Context, in subnetInput) (inventory.Subnet, error) {
	sn, err := in.subnet()
	if err != nil {
		return sn, err
	}
	sn, err = s.store.CreateSubnet(c.Request.Context(), sn)
	if err != nil {
		return sn, err
	}
	s.audit(c, "subnet.create", fmt.Sprintf("subnet/%d", sn.ID), sn.CIDR)
	return sn, nil
}

// saveSubnet replaces subnet id's settings with in, audits the change
// and runs an election round: policy and max scanners are its input.
func (s *Server) saveSubnet(c *gin.Context, id int64, in subnetInput) (inventory.Subnet, error) {
	sn, err := in.subnet()
	if err != nil {
		return sn, err
	}
	sn.ID = id
	sn, err = s.store.UpdateSubnet(c.Request.Context(), sn)
	if err != nil {
		return sn, err
	}
	s.audit(c, "subnet.update", fmt.Sprintf("subnet/%d", sn.ID), subnetDetails(sn))
	// At once, not coalesced (reelect): the page the admin is sent back
	// to names the scanners, and they must be the new ones.
	if err := s.electDetached(c.Request.Context(), "subnet "+sn.CIDR+" updated"); err != nil {
		s.log.Warn("election after a subnet update", "subnet", sn.CIDR, "err", err)
	}
	return sn, nil
}

// subnetDetails says what a subnet is set to, for the audit log.
func subnetDetails(sn inventory.Subnet) string {
	sched := "on demand"
	switch {
	case sn.Schedule.Every > 0:
		sched = "every " + sn.Schedule.Every.String()
	case sn.Schedule.At != "":
		sched = "daily at " + sn.Schedule.At
	}
	return fmt.Sprintf("%s: name %q, site %q, tags %v, schedule %s, method %s, credentials %v, policy %s, gone after %d, max scanners %d",
		sn.CIDR, sn.Name, sn.Site, sn.Tags, sched, sn.Method, sn.Credentials, sn.Policy, sn.GoneAfter, sn.MaxScanners)
}

// errSubnetScanning refuses to delete a subnet while it is scanned: the
// scan would write devices into a subnet that no longer exists.
var errSubnetScanning = fmt.Errorf("%w: a scan of this subnet is running; wait for it to end", inventory.ErrConflict)

// removeSubnet deletes subnet id with its devices, audits it and runs an
// election round so its seats go.
func (s *Server) removeSubnet(c *gin.Context, id int64) (inventory.Subnet, error) {
	ctx := c.Request.Context()
	if s.runningRun(ctx, id) != 0 {
		return inventory.Subnet{}, errSubnetScanning
	}
	sn, err := s.store.Subnet(ctx, id)
	if err != nil {
		return sn, err
	}
	if err := s.dismissIfAuto(ctx, sn, principalOf(c).actor()); err != nil {
		return sn, err
	}
	if err := s.store.DeleteSubnet(ctx, id); err != nil {
		return sn, err
	}
	s.audit(c, "subnet.delete", fmt.Sprintf("subnet/%d", id), sn.CIDR)
	s.subnetDeleted(ctx, sn)
	return sn, nil
}

// subnetForm is a subnet as the forms show it: what was typed, kept as
// typed so a refused form comes back as it was sent.
type subnetForm struct {
	CIDR, Name, Site, Method string
	Credentials              []string // SNMP credential names, in order
	Tags                     string   // comma-separated
	// ScheduleKind is "none", "every" or "at".
	ScheduleKind, Every, At string
	Policy                  string
	GoneAfter, MaxScanners  string
}

// shortDuration writes d as people do: "4h", "1h30m", "90s", not
// "4h0m0s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func formOf(in subnetInput) subnetForm {
	f := subnetForm{CIDR: in.CIDR, Name: in.Name, Site: in.Site, Method: in.Method, Credentials: in.Credentials,
		Tags: strings.Join(in.Tags, ", "), ScheduleKind: "none", Every: in.Schedule.Every, At: in.Schedule.At,
		Policy: string(in.Policy)}
	if d, err := time.ParseDuration(f.Every); err == nil {
		f.Every = shortDuration(d)
	}
	switch {
	case in.Schedule.Every != "":
		f.ScheduleKind = "every"
	case in.Schedule.At != "":
		f.ScheduleKind = "at"
	}
	if f.Method == "" {
		f.Method = "auto"
	}
	if f.Policy == "" {
		f.Policy = string(inventory.ScanAllow)
	}
	if in.GoneAfter > 0 {
		f.GoneAfter = strconv.Itoa(in.GoneAfter)
	}
	if in.MaxScanners > 0 {
		f.MaxScanners = strconv.Itoa(in.MaxScanners)
	}
	return f
}

// readSubnetForm lays the posted fields over base: a field the form did
// not send keeps base's value (the create form asks fewer than the edit
// form), except the credentials, whose boxes send nothing when none is
// ticked. It returns the input, the form as typed, and what in it is not
// a number or a schedule, before the store's checks.
func readSubnetForm(c *gin.Context, base subnetInput) (subnetInput, subnetForm, error) {
	f := formOf(base)
	post := func(key string, dst *string) {
		if v, ok := c.GetPostForm(key); ok {
			*dst = v
		}
	}
	post("cidr", &f.CIDR)
	f.CIDR = strings.TrimSpace(f.CIDR)
	post("name", &f.Name)
	post("site", &f.Site)
	post("tags", &f.Tags)
	post("method", &f.Method)
	post("schedule_kind", &f.ScheduleKind)
	post("schedule_every", &f.Every)
	post("schedule_at", &f.At)
	post("policy", &f.Policy)
	post("gone_after", &f.GoneAfter)
	post("max_scanners", &f.MaxScanners)
	f.Credentials = c.PostFormArray("credentials")

	in := base
	in.CIDR, in.Name, in.Site, in.Method, in.Credentials = f.CIDR, f.Name, f.Site, f.Method, f.Credentials
	in.Policy = inventory.ScanPolicy(f.Policy)
	in.Tags = nil
	for t := range strings.SplitSeq(f.Tags, ",") {
		if t = strings.TrimSpace(t); t != "" {
			in.Tags = append(in.Tags, t)
		}
	}
	switch f.ScheduleKind {
	case "none":
		in.Schedule = scheduleView{}
	case "every":
		in.Schedule = scheduleView{Every: strings.TrimSpace(f.Every)}
		if in.Schedule.Every == "" {
			return in, f, fmt.Errorf("%w: give the interval, such as 30m or 6h", inventory.ErrInvalid)
		}
	case "at":
		in.Schedule = scheduleView{At: strings.TrimSpace(f.At)}
		if in.Schedule.At == "" {
			return in, f, fmt.Errorf("%w: give the time of day, such as 02:30", inventory.ErrInvalid)
		}
	default:
		return in, f, fmt.Errorf("%w: schedule %q is not on demand, every or daily at", inventory.ErrInvalid, f.ScheduleKind)
	}
	num := func(v, what string, dst *int) error {
		v = strings.TrimSpace(v)
		if v == "" {
			*dst = 0 // the store's default
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%w: %s %q is not a number", inventory.ErrInvalid, what, v)
		}
		*dst = n
		return nil
	}
	if err := num(f.GoneAfter, "gone after", &in.GoneAfter); err != nil {
		return in, f, err
	}
	if err := num(f.MaxScanners, "scanners wanted", &in.MaxScanners); err != nil {
		return in, f, err
	}
	return in, f, nil
}

func (s *Server) createSubnetForm(c *gin.Context) {
	ctx := c.Request.Context()
	// The form starts from the admin settings' defaults, as the API does;
	// what it sends replaces them.
	base, err := s.newSubnetInput(ctx)
	if err != nil {
		s.pageError(c, err)
		return
	}
	in, form, err := readSubnetForm(c, base)
	errs := map[string]string{}
	if err == nil {
		if _, perr := inventory.ParseCIDR(form.CIDR); perr != nil {
			errs["cidr"] = plainError(perr)
		} else {
			_, err = s.addSubnet(c, in)
		}
	}
	if err == nil && len(errs) == 0 {
		c.Redirect(http.StatusSeeOther, "/subnets?done=created")
		return
	}
	if err != nil {
		msg, ok := s.formError(c, err)
		if !ok {
			return
		}
		errs["form"] = msg
	}
	s.renderSubnets(c, http.StatusBadRequest, form, errs, "")
}

// The edit page.

type subnetEditData struct {
	Subnet inventory.Subnet
	Form   subnetForm
	// Credentials are every stored credential, the chosen ones first in
	// their order; secrets never leave the store.
	Credentials []inventory.Credential
	Methods     []string
	Error       string
	DeleteError string
	Devices     int  // what a delete removes with the subnet
	Running     bool // a scan runs: deleting waits for it
}

func (s *Server) editSubnetPage(c *gin.Context) {
	sn, ok := s.loadSubnet(c)
	if !ok {
		return
	}
	s.renderSubnetEdit(c, http.StatusOK, sn, formOf(inputOf(sn)), "", "")
}

func (s *Server) renderSubnetEdit(c *gin.Context, status int, sn inventory.Subnet, form subnetForm, errMsg, delMsg string) {
	ctx := c.Request.Context()
	d := subnetEditData{Subnet: sn, Form: form, Methods: scanMethods, Error: errMsg, DeleteError: delMsg,
		Running: s.runningRun(ctx, sn.ID) != 0}
	all := s.credentialChoices(ctx)
	for _, name := range form.Credentials {
		if i := slices.IndexFunc(all, func(cr inventory.Credential) bool { return cr.Name == name }); i >= 0 {
			d.Credentials = append(d.Credentials, all[i])
		}
	}
	for _, cr := range all {
		if !slices.Contains(form.Credentials, cr.Name) {
			d.Credentials = append(d.Credentials, cr)
		}
	}
	page, err := s.store.Devices(ctx, inventory.DeviceQuery{SubnetID: sn.ID, Limit: 1})
	if err != nil {
		s.pageError(c, err)
		return
	}
	d.Devices = page.Total
	s.render(c, status, "subnet_edit.html", d)
}

func (s *Server) editSubnetForm(c *gin.Context) {
	old, ok := s.loadSubnet(c)
	if !ok {
		return
	}
	base := inputOf(old)
	in, form, err := readSubnetForm(c, base)
	// The CIDR cannot change (the devices are keyed within it); the page
	// shows it, it does not send it.
	in.CIDR, form.CIDR = old.CIDR, old.CIDR
	if err == nil {
		_, err = s.saveSubnet(c, old.ID, in)
	}
	if err == nil {
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/subnets/%d?done=saved", old.ID))
		return
	}
	msg, status, ok := s.subnetFormError(c, err)
	if !ok {
		return
	}
	s.renderSubnetEdit(c, status, old, form, msg, "")
}

// subnetFormError is formError for the edit page's two forms, with the
// status the page comes back with: 409 for a conflict (an overlapping
// CIDR, a scan still running), 400 otherwise.
func (s *Server) subnetFormError(c *gin.Context, err error) (string, int, bool) {
	msg, ok := s.formError(c, err)
	if errors.Is(err, inventory.ErrConflict) {
		return msg, http.StatusConflict, ok
	}
	return msg, http.StatusBadRequest, ok
}

func (s *Server) deleteSubnetForm(c *gin.Context) {
	sn, ok := s.loadSubnet(c)
	if !ok {
		return
	}
	form := formOf(inputOf(sn))
	if c.PostForm("confirm") != "yes" {
		s.renderSubnetEdit(c, http.StatusBadRequest, sn, form, "",
			"Tick the box to confirm: deleting removes the subnet and its devices for good.")
		return
	}
	if _, err := s.removeSubnet(c, sn.ID); err != nil {
		msg, status, ok := s.subnetFormError(c, err)
		if !ok {
			return
		}
		s.renderSubnetEdit(c, status, sn, form, "", msg)
		return
	}
	c.Redirect(http.StatusSeeOther, "/subnets?done=deleted")
}
