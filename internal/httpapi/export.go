package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/push"
	"github.com/switchboardhq/switchboard/internal/rcwire"
)

// Message store export: RingCentral's message-store-report. The account
// administrator creates a task; a worker (internal/export) builds its zip
// archive; the task is polled and the archive listed and downloaded.

type exportRequest struct {
	DateFrom     string   `json:"dateFrom"`
	DateTo       string   `json:"dateTo"`
	MessageTypes []string `json:"messageTypes"`
	// Extensions ({"id": …}) limit the export to those mailboxes of the
	// account; without them it covers every one.
	Extensions []struct {
		ID flexString `json:"id"`
	} `json:"extensions"`
}

type exportJSON struct {
	ID           string   `json:"id"`
	URI          string   `json:"uri"`
	Status       string   `json:"status"`
	AccountID    string   `json:"accountId"`
	ExtensionID  string   `json:"extensionId"`
	DateFrom     string   `json:"dateFrom"`
	DateTo       string   `json:"dateTo"`
	StartTime    string   `json:"startTime,omitempty"`
	FinishTime   string   `json:"finishTime,omitempty"`
	MessageTypes []string `json:"messageTypes,omitempty"`
}

type exportArchiveJSON struct {
	Records []exportArchiveRecord `json:"records"`
}

type exportArchiveRecord struct {
	URI  string `json:"uri"`
	Size int64  `json:"size"`
}

func exportURI(base string, t *switchboard.ExportTask) string {
	return fmt.Sprintf("%s/restapi/v1.0/account/%d/message-store-report/%s", base, t.AccountID, t.ID)
}

func toExportJSON(base string, t *switchboard.ExportTask) exportJSON {
	out := exportJSON{ID: t.ID, URI: exportURI(base, t), Status: string(t.Status),
		AccountID: strconv.FormatInt(t.AccountID, 10), ExtensionID: strconv.FormatInt(t.ExtensionID, 10),
		DateFrom: rcwire.Time(t.DateFrom), DateTo: rcwire.Time(t.DateTo)}
	if !t.Started.IsZero() {
		out.StartTime = rcwire.Time(t.Started)
	}
	if !t.Finished.IsZero() {
		out.FinishTime = rcwire.Time(t.Finished)
	}
	for _, x := range t.Types {
		out.MessageTypes = append(out.MessageTypes, string(x))
	}
	return out
}

// exportAccount is the account of an export route: the caller's own, and
// the caller its administrator (an export reads every mailbox).
func (s *Server) exportAccount(r *http.Request, p *switchboard.Principal) (int64, error) {
	id, err := s.resolveAccount(r, p)
	if err == nil && !p.Admin {
		err = switchboard.Errorf("CMN-408",
			"In order to call this API endpoint, user needs to have [AccountAdministration] permission: a message store report covers every mailbox of the account")
	}
	return id, err
}

// handleCreateExport serves POST .../message-store-report.
func (s *Server) handleCreateExport(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	accountID, err := s.exportAccount(r, p)
	var req exportRequest
	if err == nil {
		_, err = s.decodeJSON(w, r, s.config.MaxBodyBytes, &req)
	}
	var t *switchboard.ExportTask
	if err == nil {
		t, err = s.exportTask(r, accountID, p, req)
	}
	if err == nil {
		err = s.store.CreateExport(r.Context(), t)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.exports != nil {
		s.exports.Wake()
	}
	writeJSON(w, http.StatusOK, toExportJSON(s.baseURL(r), t))
}

// exportTask validates a create request: dateTo defaults to now and
// dateFrom to 24 hours before it, as RingCentral's do.
func (s *Server) exportTask(r *http.Request, accountID int64, p *switchboard.Principal, req exportRequest) (*switchboard.ExportTask, error) {
	now := s.clock.Now()
	t := &switchboard.ExportTask{ID: push.NewUUID(), AccountID: accountID, ExtensionID: p.ExtensionID, Created: now,
		DateTo: now.Truncate(time.Millisecond).Add(time.Millisecond)}
	var err error
	if req.DateTo != "" {
		if t.DateTo, err = parseTime("dateTo", req.DateTo); err != nil {
			return nil, err
		}
	}
	t.DateFrom = t.DateTo.Add(-24 * time.Hour)
	if req.DateFrom != "" {
		if t.DateFrom, err = parseTime("dateFrom", req.DateFrom); err != nil {
			return nil, err
		}
	}
	if !t.DateFrom.Before(t.DateTo) {
		return nil, switchboard.InvalidParam("dateFrom", req.DateFrom, "Parameter [dateFrom] must be earlier than dateTo")
	}
	for _, raw := range req.MessageTypes {
		typ, err := switchboard.ParseEnum("messageTypes", raw, switchboard.MessageTypes)
		if err != nil {
			return nil, err
		}
		t.Types = append(t.Types, typ)
	}
	for _, x := range req.Extensions {
		id, err := strconv.ParseInt(string(x.ID), 10, 64)
		if err == nil {
			_, err = s.store.Extension(r.Context(), accountID, id)
		}
		if errors.Is(err, switchboard.ErrNotFound) || errors.Is(err, strconv.ErrSyntax) || errors.Is(err, strconv.ErrRange) {
			return nil, switchboard.InvalidParam("extensions.id", string(x.ID), "Extension %q is not in this account", string(x.ID))
		}
		if err != nil {
			return nil, err
		}
		t.Extensions = append(t.Extensions, id)
	}
	return t, nil
}

// handleGetExport serves GET .../message-store-report/{taskId}.
func (s *Server) handleGetExport(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	t, err := s.ownExport(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toExportJSON(s.baseURL(r), t))
}

// handleExportArchive serves GET .../archive: the archive once the task is
// Completed (one zip), none before.
func (s *Server) handleExportArchive(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	t, err := s.ownExport(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := exportArchiveJSON{Records: []exportArchiveRecord{}}
	if t.Status == switchboard.ExportCompleted {
		out.Records = append(out.Records, exportArchiveRecord{URI: exportURI(s.baseURL(r), t) + "/archive/1", Size: t.Size})
	}
	writeJSON(w, http.StatusOK, out)
}

// handleExportArchiveContent serves GET .../archive/{archiveId}: the zip,
// streamed chunk by chunk from the store.
func (s *Server) handleExportArchiveContent(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	t, err := s.ownExport(r, p)
	if err == nil && (r.PathValue("archiveId") != "1" || t.Status != switchboard.ExportCompleted) {
		err = switchboard.NotFound("archiveId", r.PathValue("archiveId"))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	first, err := s.store.ExportChunk(r.Context(), t.AccountID, t.ID, 0)
	if err != nil && !errors.Is(err, switchboard.ErrNotFound) {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Length", strconv.FormatInt(t.Size, 10))
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="message-store-report-%s.zip"`, t.ID))
	w.WriteHeader(http.StatusOK)
	chunk := first
	for seq := 1; len(chunk) > 0; seq++ {
		if _, err := w.Write(chunk); err != nil {
			return
		}
		chunk, err = s.store.ExportChunk(r.Context(), t.AccountID, t.ID, seq)
		if err != nil && !errors.Is(err, switchboard.ErrNotFound) {
			// The status line is sent: a short body is all that is left.
			s.logger.ErrorContext(r.Context(), "message store report download", "task", t.ID, "err", err)
			return
		}
	}
}

func (s *Server) ownExport(r *http.Request, p *switchboard.Principal) (*switchboard.ExportTask, error) {
	accountID, err := s.exportAccount(r, p)
	if err != nil {
		return nil, err
	}
	t, err := s.store.Export(r.Context(), accountID, r.PathValue("taskId"))
	return t, notFoundAs(err, "taskId", r.PathValue("taskId"))
}
