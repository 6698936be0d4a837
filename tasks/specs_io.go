package tasks

// ioSpecs lists the tasks that reach outside the process: HTTP requests and
// shell commands. Their legacy names (io.kestra.plugin.fs.http.Request,
// io.kestra.core.tasks.scripts.Bash) are in legacyAliases.
func ioSpecs() []*Spec {
	return []*Spec{
		runnable[HTTPRequest](pHTTPRequest, httpProps, checkHTTPRequest),
		runnable[ShellCommands](pShell, shellProps, checkShell),
		runnable[HTTPDownload]("io.kestra.plugin.core.http.Download", downloadProps, checkHTTPDownload),
	}
}
