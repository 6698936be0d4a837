{{/* The chart's name, bounded to a DNS label. */}}
{{- define "osprey.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The full name of the release's objects; components append "-<component>", so it stays short. */}}
{{- define "osprey.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "osprey.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every object of the release carries. */}}
{{- define "osprey.labels" -}}
helm.sh/chart: {{ include "osprey.chart" . }}
{{ include "osprey.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "osprey.selectorLabels" -}}
app.kubernetes.io/name: {{ include "osprey.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "osprey.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "osprey.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The workload identity client id selected by the application config, or nothing. Kestra's guide writes
kestra.secret.azureKeyVault.workloadIdentityClientId; the kebab-case spelling of Kestra's relaxed binding
(azure-key-vault.workload-identity-client-id) is read too.
*/}}
{{- define "osprey.workloadIdentityClientId" -}}
{{- $app := .Values.configurations.application | default dict }}
{{- $secret := dig "kestra" "secret" dict $app | default dict }}
{{- $type := get $secret "type" | default "" | toString | lower | replace "_" "-" }}
{{- if eq $type "azure-key-vault" }}
{{- $id := "" }}
{{- range $key := list "azureKeyVault" "azure-key-vault" }}
{{- $kv := get $secret $key | default dict }}
{{- $id = $id | default (get $kv "workloadIdentityClientId") | default (get $kv "workload-identity-client-id") }}
{{- end }}
{{- $id | default "" | toString }}
{{- end }}
{{- end }}

{{/* "true" when the application config carries its own basic-auth credentials. */}}
{{- define "osprey.basicAuth.inConfig" -}}
{{- $app := .Values.configurations.application | default dict }}
{{- $server := dig "kestra" "server" dict $app | default dict }}
{{- $auth := get $server "basic-auth" | default (get $server "basicAuth") | default dict }}
{{- if and (get $auth "username") (get $auth "password") }}true{{ end }}
{{- end }}

{{/* The Secret holding basic-auth credentials: the given one, or the one the chart creates. */}}
{{- define "osprey.basicAuth.secretName" -}}
{{- .Values.basicAuth.existingSecret | default (printf "%s-basic-auth" (include "osprey.fullname" .)) }}
{{- end }}

{{/*
Fails rendering with a message saying what to set when the values cannot give a working deployment. Called by
every template that renders pods, so `helm template` and `helm install` both stop early.
*/}}
{{- define "osprey.validate" -}}
{{- if hasKey .Values "configuration" }}
{{- fail "the 'configuration' value is the layout of Kestra's chart before 1.0 and is not read: move its content under 'configurations.application'" }}
{{- end }}
{{- if and (include "osprey.workloadIdentityClientId" .) (not .Values.serviceAccount.create) (not .Values.serviceAccount.name) }}
{{- fail "configurations.application selects azure-key-vault with a workload identity client id, so the pods must run as the Kubernetes service account your federated credential names: set serviceAccount.name (e.g. kestra-sa), or set serviceAccount.create=true to let the chart create it" }}
{{- end }}
{{- $enabled := list }}
{{- range $name := list "standalone" "webserver" "executor" "scheduler" "worker" }}
{{- $d := index $.Values.deployments $name | default dict }}
{{- if $d.enabled }}{{ $enabled = append $enabled $name }}{{ end }}
{{- end }}
{{- if not $enabled }}
{{- fail "no Osprey component is enabled: set deployments.standalone.enabled=true, or enable webserver, executor, scheduler and worker" }}
{{- end }}
{{- end }}

{{/* The component the Service and Ingress send traffic to: the webserver, else standalone, else nothing. */}}
{{- define "osprey.apiComponent" -}}
{{- if .Values.deployments.webserver.enabled }}webserver{{ else if .Values.deployments.standalone.enabled }}standalone{{ end }}
{{- end }}

{{/* The configuration files the binary reads, in order, as OSPREY_CONFIG_FILES wants them. */}}
{{- define "osprey.configFiles" -}}
{{- $files := list "/etc/osprey/config/application.yml" }}
{{- range $i, $c := .Values.configurations.configmaps }}
{{- $files = append $files (printf "/etc/osprey/configmaps/%d-%s/%s" $i $c.name $c.key) }}
{{- end }}
{{- range $i, $s := .Values.configurations.secrets }}
{{- $files = append $files (printf "/etc/osprey/secrets/%d-%s/%s" $i $s.name $s.key) }}
{{- end }}
{{- join "," $files }}
{{- end }}

{{/* The task temp dir from the application config, when it lies outside /tmp (which is always writable). */}}
{{- define "osprey.extraTmpDir" -}}
{{- $app := .Values.configurations.application | default dict }}
{{- $tasks := dig "kestra" "tasks" dict $app | default dict }}
{{- $tmp := get $tasks "tmp-dir" | default (get $tasks "tmpDir") | default dict }}
{{- $path := get $tmp "path" | default "" | toString }}
{{- if and $path (ne $path "/tmp") (not (hasPrefix "/tmp/" $path)) }}{{ $path }}{{ end }}
{{- end }}
