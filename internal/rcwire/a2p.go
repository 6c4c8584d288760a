package rcwire

import (
	"strconv"

	"github.com/switchboardhq/switchboard"
)

// A2PBatch is MessageBatchResponse: a high-volume batch as the API and its
// a2p-sms/batches notifications show it.
type A2PBatch struct {
	ID               string   `json:"id"`
	From             string   `json:"from"`
	BatchSize        int      `json:"batchSize"`
	ProcessedCount   int      `json:"processedCount"`
	LastModifiedTime string   `json:"lastModifiedTime"`
	Status           string   `json:"status"`
	CreationTime     string   `json:"creationTime"`
	Cost             *float64 `json:"cost,omitempty"`
}

// NewA2PBatch is b as the API shows it.
func NewA2PBatch(b *switchboard.A2PBatch) A2PBatch {
	j := A2PBatch{ID: strconv.FormatInt(b.ID, 10), From: b.From, BatchSize: b.BatchSize, ProcessedCount: b.ProcessedCount,
		LastModifiedTime: Time(b.LastModified), Status: string(b.Status), CreationTime: Time(b.Created)}
	if b.Status == switchboard.A2PCompleted {
		j.Cost = new(float64) // nothing is billed here
	}
	return j
}
