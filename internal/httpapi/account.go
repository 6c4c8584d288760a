package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/rcwire"
)

type accountJSON struct {
	ID         int64  `json:"id"`
	URI        string `json:"uri"`
	MainNumber string `json:"mainNumber,omitempty"`
	Status     string `json:"status"`
	Name       string `json:"name,omitempty"`
}

type contactJSON struct {
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
	Email     string `json:"email,omitempty"`
}

type extensionJSON struct {
	ID               int64       `json:"id"`
	URI              string      `json:"uri"`
	ExtensionNumber  string      `json:"extensionNumber"`
	Name             string      `json:"name"`
	Type             string      `json:"type"`
	Status           string      `json:"status"`
	Contact          contactJSON `json:"contact"`
	Account          *refJSON    `json:"account,omitempty"`
	Permissions      *permsJSON  `json:"permissions,omitempty"`
	SetupWizardState string      `json:"setupWizardState,omitempty"`
	CreationTime     string      `json:"creationTime,omitempty"`
}

type refJSON struct {
	ID  string `json:"id"`
	URI string `json:"uri"`
}

type permsJSON struct {
	Admin enabledJSON `json:"admin"`
}

type enabledJSON struct {
	Enabled bool `json:"enabled"`
}

func accountURI(base string, id int64) string {
	return fmt.Sprintf("%s/restapi/v1.0/account/%d", base, id)
}

func extensionURI(base string, accountID, id int64) string {
	return fmt.Sprintf("%s/extension/%d", accountURI(base, accountID), id)
}

func toExtensionJSON(base string, e *switchboard.Extension, full bool) extensionJSON {
	out := extensionJSON{ID: e.ID, URI: extensionURI(base, e.AccountID, e.ID), ExtensionNumber: e.ExtensionNumber,
		Name: e.Name, Type: e.Type, Status: e.Status, Contact: contactJSON{FirstName: e.Name, Email: e.Email}}
	if full {
		out.Account = &refJSON{ID: strconv.FormatInt(e.AccountID, 10), URI: accountURI(base, e.AccountID)}
		out.Permissions = &permsJSON{Admin: enabledJSON{e.Admin}}
		out.SetupWizardState = "Completed"
		out.CreationTime = rcwire.Time(e.Created)
	}
	return out
}

func (s *Server) handleAccount(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	id, err := s.resolveAccount(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.store.Account(r.Context(), id)
	if err != nil {
		s.writeError(w, r, notFoundAs(err, "accountId", r.PathValue("accountId")))
		return
	}
	// RingCentral's account statuses are Initial, Unconfirmed, Confirmed and
	// Disabled; an enabled Switchboard account is a Confirmed one.
	status := "Confirmed"
	if a.Status == switchboard.StatusDisabled {
		status = "Disabled"
	}
	writeJSON(w, http.StatusOK, accountJSON{ID: a.ID, URI: accountURI(s.baseURL(r), a.ID), MainNumber: a.MainNumber, Status: status, Name: a.Name})
}

// handleExtension answers GetExtensionInfoResponse. Every extension of the
// caller's account is visible, as in RingCentral's company directory.
func (s *Server) handleExtension(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	accountID, err := s.resolveAccount(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id := p.ExtensionID
	if raw := r.PathValue("extensionId"); raw != "~" {
		if id, err = parseID("extensionId", raw); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	e, err := s.store.Extension(r.Context(), accountID, id)
	if err != nil {
		s.writeError(w, r, notFoundAs(err, "extensionId", r.PathValue("extensionId")))
		return
	}
	writeJSON(w, http.StatusOK, toExtensionJSON(s.baseURL(r), e, true))
}

type listJSON[T any] struct {
	URI        string         `json:"uri"`
	Records    []T            `json:"records"`
	Paging     pagingJSON     `json:"paging"`
	Navigation navigationJSON `json:"navigation"`
}

// enumeratedPage pages an in-memory list (directories are small) with
// totals, as EnumeratedPagingModel does.
func enumeratedPage[T any](uri string, q url.Values, all []T) (listJSON[T], error) {
	page, err := parseInt(q, "page", 1, 1, maxPage)
	if err != nil {
		return listJSON[T]{}, err
	}
	perPage, err := parseInt(q, "perPage", defaultPerPage, 1, 1<<31-1)
	if err != nil {
		return listJSON[T]{}, err
	}
	perPage = min(perPage, maxPerPage)
	total := len(all)
	start := min((page-1)*perPage, total)
	end := min(start+perPage, total)
	out := listJSON[T]{URI: pageURI(uri, q, page, perPage), Records: all[start:end]}
	totalPages := (total + perPage - 1) / perPage
	out.Paging = pagingJSON{Page: intp(page), PerPage: perPage, TotalElements: intp(total), TotalPages: intp(totalPages)}
	if end > start {
		out.Paging.PageStart, out.Paging.PageEnd = intp(start), intp(end-1)
	}
	out.Navigation.FirstPage = &rcwire.URI{URI: pageURI(uri, q, 1, perPage)}
	out.Navigation.LastPage = &rcwire.URI{URI: pageURI(uri, q, max(totalPages, 1), perPage)}
	if page > 1 {
		out.Navigation.PreviousPage = &rcwire.URI{URI: pageURI(uri, q, page-1, perPage)}
	}
	if page < totalPages {
		out.Navigation.NextPage = &rcwire.URI{URI: pageURI(uri, q, page+1, perPage)}
	}
	return out, nil
}

var extensionTypes = []string{switchboard.ExtensionTypeUser, switchboard.ExtensionTypeDepartment, switchboard.ExtensionTypeFaxUser}
var extensionStatuses = []string{switchboard.StatusEnabled, switchboard.StatusDisabled}

func (s *Server) handleExtensionList(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	accountID, err := s.resolveAccount(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	f := switchboard.ExtensionFilter{AccountID: accountID, ExtensionNumber: q.Get("extensionNumber")}
	if f.Types, err = parseEnums(q, "type", extensionTypes); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Statuses, err = parseEnums(q, "status", extensionStatuses); err != nil {
		s.writeError(w, r, err)
		return
	}
	exts, err := s.store.Extensions(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	base := s.baseURL(r)
	records := make([]extensionJSON, len(exts))
	for i, e := range exts {
		records[i] = toExtensionJSON(base, e, false)
	}
	out, err := enumeratedPage(accountURI(base, accountID)+"/extension", q, records)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

type phoneNumberJSON struct {
	ID          int64       `json:"id"`
	URI         string      `json:"uri"`
	PhoneNumber string      `json:"phoneNumber"`
	Country     countryJSON `json:"country"`
	Features    []string    `json:"features"`
	PaymentType string      `json:"paymentType"`
	Primary     bool        `json:"primary"`
	Status      string      `json:"status"`
	Type        string      `json:"type"`
	UsageType   string      `json:"usageType"`
}

type countryJSON struct {
	ID   string `json:"id"`
	URI  string `json:"uri"`
	Name string `json:"name"`
}

// handlePhoneNumbers lists an extension's numbers. Like the message store,
// another extension's numbers need the admin role.
func (s *Server) handlePhoneNumbers(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	mb, err := s.resolveMailbox(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	nums, err := s.store.PhoneNumbers(r.Context(), mb.AccountID, mb.ExtensionID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	base := s.baseURL(r)
	uri := extensionURI(base, mb.AccountID, mb.ExtensionID) + "/phone-number"
	records := make([]phoneNumberJSON, 0, len(nums))
	for i, n := range nums {
		features := n.Features
		if features == nil {
			features = []string{}
		}
		records = append(records, phoneNumberJSON{
			ID: n.ID, URI: fmt.Sprintf("%s/phone-number/%d", accountURI(base, mb.AccountID), n.ID),
			PhoneNumber: n.PhoneNumber, Country: countryOf(base, n.PhoneNumber), Features: features,
			PaymentType: "Local", Primary: i == 0, Status: n.Status, Type: n.Type, UsageType: n.UsageType,
		})
	}
	out, err := enumeratedPage(uri, r.URL.Query(), records)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// countryOf names the country of a number by its calling code, enough for
// the numbers a demo or test uses; unknown codes are reported as such.
func countryOf(base, number string) countryJSON {
	id, name := "0", "Unknown"
	switch {
	case len(number) > 1 && number[1] == '1':
		id, name = "1", "United States"
	case len(number) > 2 && number[1:3] == "44":
		id, name = "224", "United Kingdom"
	}
	return countryJSON{ID: id, URI: base + "/restapi/v1.0/dictionary/country/" + id, Name: name}
}
