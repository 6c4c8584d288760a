package httpapi

import (
	"github.com/switchboardhq/switchboard/internal/rcwire"
)

// pagingJSON is MessagingPagingInfo / EnumeratedPagingModel.
type pagingJSON struct {
	Page          *int `json:"page,omitempty"`
	TotalPages    *int `json:"totalPages,omitempty"`
	PerPage       int  `json:"perPage"`
	TotalElements *int `json:"totalElements,omitempty"`
	PageStart     *int `json:"pageStart,omitempty"`
	PageEnd       *int `json:"pageEnd,omitempty"`
}

type navigationJSON struct {
	FirstPage    *rcwire.URI `json:"firstPage,omitempty"`
	NextPage     *rcwire.URI `json:"nextPage,omitempty"`
	PreviousPage *rcwire.URI `json:"previousPage,omitempty"`
	LastPage     *rcwire.URI `json:"lastPage,omitempty"`
}

func intp(n int) *int { return &n }
