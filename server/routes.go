package server

// routes mounts the Kestra-compatible API. Paths are relative to the API
// prefixes; see Handle.
func (s *Server) routes() {
	s.Handle("POST /flows", s.createFlow)
	s.Handle("POST /flows/validate", s.validateFlows)
	s.Handle("GET /flows/search", s.searchFlows)
	s.Handle("GET /flows/{namespace}", s.flowsByNamespace)
	s.Handle("GET /flows/{namespace}/{id}", s.getFlow)
	s.Handle("PUT /flows/{namespace}/{id}", s.updateFlow)
	s.Handle("DELETE /flows/{namespace}/{id}", s.deleteFlow)
	s.Handle("GET /flows/{namespace}/{id}/revisions", s.flowRevisions)

	s.Handle("POST /executions/{namespace}/{id}", s.createExecution)
	// POST /executions/trigger/{namespace}/{id} (Kestra's path before 0.15,
	// still used by older scripts) and Kestra 2.0's
	// /executions/{executionId}/actions/… overlap: one pattern, see
	// executionActions.
	s.Handle(executionActionsPattern, s.executionActions)
	s.Handle("GET /executions/search", s.searchExecutions)
	s.Handle("GET /executions", s.executionsOfFlow)
	s.Handle("GET /executions/{executionId}", s.getExecution)
	s.Handle("DELETE /executions/{executionId}", s.deleteExecution)
	s.Handle("GET /executions/{executionId}/follow", s.followExecution)
	s.Handle("DELETE /executions/{executionId}/kill", s.killExecution)
	s.Handle("GET /executions/{executionId}/file", s.downloadExecutionFile)
	s.Handle("GET /executions/{executionId}/file/metas", s.executionFileMetas)
	s.Handle("GET /executions/{executionId}/file/preview", s.previewExecutionFile)

	s.Handle("GET /namespaces/{namespace}", s.getNamespace)
	s.Handle("PUT /namespaces/{namespace}", s.putNamespace)

	s.Handle("GET /namespaces/{namespace}/kv", s.listKV)
	s.Handle("GET /namespaces/{namespace}/kv/inheritance", s.listInheritedKV)
	s.Handle("GET /kv", s.listAllKV)
	s.Handle("GET /namespaces/{namespace}/kv/{key}", s.getKV)
	s.Handle("PUT /namespaces/{namespace}/kv/{key}", s.putKV)
	s.Handle("DELETE /namespaces/{namespace}/kv/{key}", s.deleteKV)

	s.Handle("GET /namespaces/{namespace}/files", s.getFile)
	s.Handle("GET /namespaces/{namespace}/files/stats", s.fileStats)
	s.Handle("GET /namespaces/{namespace}/files/directory", s.listDirectory)
	s.Handle("POST /namespaces/{namespace}/files", s.putFile)
	s.Handle("PUT /namespaces/{namespace}/files", s.moveFile)
	s.Handle("DELETE /namespaces/{namespace}/files", s.deleteFile)

	s.Handle("GET /logs/{executionId}", s.listLogs)
	s.Handle("GET /logs/{executionId}/follow", s.followLogs)
	s.Handle("GET /logs/{executionId}/download", s.downloadLogs)
}
