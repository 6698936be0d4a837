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

{{/* Every extraEnv entry of the release: common and every deployment's, as a YAML list. */}}
{{- define "osprey.allEnv" -}}
{{- $all := concat (.Values.common.extraEnv | default list) }}
{{- range $name, $d := .Values.deployments }}
{{- if kindIs "map" $d }}{{ $all = concat $all (get $d "extraEnv" | default list) }}{{ end }}
{{- end }}
{{- toYaml $all }}
{{- end }}

{{/*
The configuration documents the chart can read, as a YAML list: configurations.application, the content of
KESTRA_CONFIGURATION in extraEnv, and — in a cluster only, through lookup — the files of configurations.secrets
and configurations.configmaps.
*/}}
{{- define "osprey.configDocs" -}}
{{- $docs := list (.Values.configurations.application | default dict) }}
{{- range $e := (include "osprey.allEnv" . | fromYamlArray) }}
{{- if and (eq (get $e "name") "KESTRA_CONFIGURATION") (get $e "value") }}
{{- $docs = append $docs (get $e "value" | toString | fromYaml) }}
{{- end }}
{{- end }}
{{- range $c := .Values.configurations.secrets }}
{{- $obj := lookup "v1" "Secret" $.Release.Namespace $c.name | default dict }}
{{- $data := get $obj "data" | default dict }}
{{- with get $data $c.key }}{{ $docs = append $docs (b64dec . | fromYaml) }}{{ end }}
{{- end }}
{{- range $c := .Values.configurations.configmaps }}
{{- $obj := lookup "v1" "ConfigMap" $.Release.Namespace $c.name | default dict }}
{{- $data := get $obj "data" | default dict }}
{{- with get $data $c.key }}{{ $docs = append $docs (fromYaml .) }}{{ end }}
{{- end }}
{{- toYaml $docs }}
{{- end }}

{{/*
The workload identity client id the configuration selects, or nothing, wherever it is set: a configuration
document (Kestra's guide writes kestra.secret.azureKeyVault.workloadIdentityClientId; the kebab-case spelling of
Kestra's relaxed binding is read too), KESTRA_SECRET_* variables in extraEnv, or the client-id annotation given
to the service account.
*/}}
{{- define "osprey.workloadIdentityClientId" -}}
{{- $id := "" }}
{{- range $doc := (include "osprey.configDocs" . | fromYamlArray) }}
{{- $secret := dig "kestra" "secret" dict ($doc | default dict) | default dict }}
{{- $type := get $secret "type" | default "" | toString | lower | replace "_" "-" }}
{{- if eq $type "azure-key-vault" }}
{{- range $key := list "azureKeyVault" "azure-key-vault" }}
{{- $kv := get $secret $key | default dict }}
{{- $id = $id | default (get $kv "workloadIdentityClientId") | default (get $kv "workload-identity-client-id") }}
{{- end }}
{{- end }}
{{- end }}
{{- $envType := "" }}
{{- $envId := "" }}
{{- range $e := (include "osprey.allEnv" . | fromYamlArray) }}
{{- if eq (get $e "name") "KESTRA_SECRET_TYPE" }}{{ $envType = get $e "value" | default "" | toString | lower | replace "_" "-" }}{{ end }}
{{- if eq (get $e "name") "KESTRA_SECRET_AZURE_KEY_VAULT_WORKLOAD_IDENTITY_CLIENT_ID" }}{{ $envId = get $e "value" | default "" | toString }}{{ end }}
{{- end }}
{{- if eq $envType "azure-key-vault" }}{{ $id = $id | default $envId }}{{ end }}
{{- $id = $id | default (get (.Values.serviceAccount.annotations | default dict) "azure.workload.identity/client-id") }}
{{- $id | default "" | toString }}
{{- end }}

{{/*
The repository type the configuration selects: postgres, sqlite, or unknown when it may be set where the chart
cannot read (a Secret or ConfigMap under helm template, extraEnvFrom).
*/}}
{{- define "osprey.repositoryType" -}}
{{- $type := "" }}
{{- range $doc := (include "osprey.configDocs" . | fromYamlArray) }}
{{- with dig "kestra" "repository" "type" "" ($doc | default dict) }}{{ $type = toString . }}{{ end }}
{{- end }}
{{- range $e := (include "osprey.allEnv" . | fromYamlArray) }}
{{- if eq (get $e "name") "KESTRA_REPOSITORY_TYPE" }}{{ $type = get $e "value" | default "" | toString }}{{ end }}
{{- end }}
{{- $hidden := or .Values.configurations.secrets .Values.configurations.configmaps .Values.common.extraEnvFrom }}
{{- range $name, $d := .Values.deployments }}
{{- if and (kindIs "map" $d) (get $d "extraEnvFrom") }}{{ $hidden = true }}{{ end }}
{{- end }}
{{- if $type }}{{ lower $type }}{{ else if $hidden }}unknown{{ else }}sqlite{{ end }}
{{- end }}

{{/*
The image reference: image.image (Osprey's earlier key) wins when set, else image.repository. Kestra's own image
(kestra/kestra, as Kestra's values file names it) cannot run Osprey's commands: it is replaced by Osprey's image at
the chart's version, and NOTES says so.
*/}}
{{- define "osprey.image" -}}
{{- if include "osprey.kestraImage" . }}
{{- printf "ghcr.io/ospreyhq/osprey:%s" .Chart.AppVersion }}
{{- else }}
{{- printf "%s:%s" (.Values.image.image | default .Values.image.repository) (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* "true" when the values name Kestra's own image. */}}
{{- define "osprey.kestraImage" -}}
{{- $repo := .Values.image.image | default .Values.image.repository | toString }}
{{- if or (eq $repo "kestra/kestra") (hasSuffix "/kestra/kestra" $repo) }}true{{ end }}
{{- end }}

{{/* The API and management container ports. */}}
{{- define "osprey.httpPort" -}}
{{- dig "ports" "http" "containerPort" 8080 (.Values.service | default dict) }}
{{- end }}
{{- define "osprey.managementPort" -}}
{{- dig "ports" "management" "containerPort" 8081 (.Values.service | default dict) }}
{{- end }}

{{/*
Whether the chart renders against a cluster (helm install/upgrade) rather than alone (helm template): lookup
answers only in a cluster, and every release's namespace exists there.
*/}}
{{- define "osprey.inCluster" -}}
{{- if lookup "v1" "Namespace" "" .Release.Namespace }}true{{ end }}
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
{{- if .Values.workerGroups }}
{{- fail "workerGroups are a Kestra Enterprise feature Osprey does not have: remove workerGroups, and run more worker replicas (deployments.worker.replicas or deployments.worker.autoscaler) instead" }}
{{- end }}
{{- $repo := include "osprey.repositoryType" . }}
{{- if and (ne $repo "postgres") (ne $repo "unknown") }}
{{- $split := list }}
{{- range $name := list "webserver" "executor" "scheduler" "worker" }}
{{- if (index $.Values.deployments $name | default dict).enabled }}{{ $split = append $split $name }}{{ end }}
{{- end }}
{{- if $split }}
{{- fail (printf "deployments %s are enabled on the %s store: split components share work only through PostgreSQL (each pod would get its own SQLite). Set configurations.application.kestra.repository.type: postgres with datasources.postgres, or run deployments.standalone alone" (join ", " $split) $repo) }}
{{- end }}
{{- $sa := .Values.deployments.standalone | default dict }}
{{- if $sa.enabled }}
{{- $replicas := hasKey $sa "replicas" | ternary $sa.replicas .Values.common.replicas }}
{{- $as := mergeOverwrite (deepCopy (.Values.common.autoscaler | default dict)) (get $sa "autoscaler" | default dict) }}
{{- if or (gt (int $replicas) 1) $as.enabled }}
{{- fail (printf "deployments.standalone asks for more than one replica on the %s store: each replica would get its own SQLite database. Keep replicas: 1 and autoscaler.enabled: false, or set configurations.application.kestra.repository.type: postgres with datasources.postgres" $repo) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* The component the Service and Ingress send traffic to: the webserver, else standalone, else nothing. */}}
{{- define "osprey.apiComponent" -}}
{{- if .Values.deployments.webserver.enabled }}webserver{{ else if .Values.deployments.standalone.enabled }}standalone{{ end }}
{{- end }}

{{/* The components this release runs, as a YAML list. */}}
{{- define "osprey.components" -}}
{{- $out := list }}
{{- range $name := list "standalone" "webserver" "executor" "scheduler" "worker" }}
{{- if (index $.Values.deployments $name | default dict).enabled }}{{ $out = append $out $name }}{{ end }}
{{- end }}
{{- toYaml $out }}
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

{{/*
The effective settings of one deployment, as YAML: common merged with deployments.<component> the way Kestra's
chart merges them (see values.yaml). Called with (dict "root" $ "component" "worker").
*/}}
{{- define "osprey.settings" -}}
{{- $root := .root }}
{{- $common := $root.Values.common }}
{{- $d := index $root.Values.deployments .component | default dict }}
{{- $s := dict "enabled" (get $d "enabled" | default false) "extraArgs" (get $d "extraArgs" | default list) "workerThreads" (get $d "workerThreads" | default 0) }}
{{- range $key := list "kind" "replicas" "resources" "priorityClassName" "terminationGracePeriodSeconds" "strategy" "updateStrategy" "revisionHistoryLimit" }}
{{- $_ := set $s $key (hasKey $d $key | ternary (index $d $key) (index $common $key)) }}
{{- end }}
{{- range $key := list "labels" "podLabels" "annotations" "podAnnotations" "nodeSelector" "affinity" }}
{{- /* Values become strings where Kubernetes wants strings: `use: true` written unquoted still gives "true". */}}
{{- $m := merge (deepCopy (index $d $key | default dict)) (deepCopy (index $common $key | default dict)) }}
{{- if has $key (list "labels" "podLabels" "annotations" "podAnnotations" "nodeSelector") }}
{{- $str := dict }}
{{- range $k, $v := $m }}{{ $_ := set $str $k (toString $v) }}{{ end }}
{{- $m = $str }}
{{- end }}
{{- $_ := set $s $key $m }}
{{- end }}
{{- range $key := list "securityContext" "podSecurityContext" "livenessProbe" "readinessProbe" "startupProbe" "autoscaler" "podDisruptionBudget" }}
{{- $_ := set $s $key (mergeOverwrite (deepCopy (index $common $key | default dict)) (deepCopy (index $d $key | default dict))) }}
{{- end }}
{{- range $key := list "extraEnv" "extraEnvFrom" "extraVolumes" "extraVolumeMounts" "initContainers" "extraContainers" "tolerations" "topologySpreadConstraints" }}
{{- $_ := set $s $key (concat (index $common $key | default list) (index $d $key | default list)) }}
{{- end }}
{{- /*
Kestra's chart 1.x renders securityContext on the pod and podSecurityContext on the container, the other way round
from their names. Fields Kubernetes accepts in one place only go where they are valid, so that a Kestra values file
gives a pod the API server takes (a moved field wins over the chart's default there); fields valid in both stay
where written.
*/}}
{{- $sc := $s.securityContext }}
{{- $psc := $s.podSecurityContext }}
{{- range $k := list "fsGroup" "fsGroupChangePolicy" "supplementalGroups" "supplementalGroupsPolicy" "sysctls" "seLinuxChangePolicy" }}
{{- if hasKey $sc $k }}{{ $_ := set $psc $k (get $sc $k) }}{{ $_ := unset $sc $k }}{{ end }}
{{- end }}
{{- range $k := list "allowPrivilegeEscalation" "capabilities" "privileged" "procMount" "readOnlyRootFilesystem" }}
{{- if hasKey $psc $k }}{{ $_ := set $sc $k (get $psc $k) }}{{ $_ := unset $psc $k }}{{ end }}
{{- end }}
{{- toYaml $s }}
{{- end }}

{{/* The Service's API port: service.port (Osprey's earlier key) or service.ports.http.port. */}}
{{- define "osprey.servicePort" -}}
{{- .Values.service.port | default (dig "ports" "http" "port" 8080 (.Values.service | default dict)) }}
{{- end }}

{{/* Kestra chart keys this release sets that Osprey accepts with no effect, one per line. */}}
{{- define "osprey.ignoredKeys" -}}
{{- $out := list }}
{{- if include "osprey.kestraImage" . }}{{ $out = append $out (printf "image.repository %s (and its tag): that is Kestra's image; Osprey's %s runs instead" (.Values.image.image | default .Values.image.repository) (include "osprey.image" .)) }}{{ end }}
{{- if .Values.dind }}{{ $out = append $out "dind: Osprey runs script tasks as processes, without Docker" }}{{ end }}
{{- if .Values.common.jvm }}{{ $out = append $out "common.jvm: Osprey is not a JVM" }}{{ end }}
{{- if (.Values.common.configmapReloader | default dict).enabled }}{{ $out = append $out "common.configmapReloader: pods already restart when the chart's configuration changes (checksum/config)" }}{{ end }}
{{- range $name, $d := .Values.deployments }}
{{- if and (kindIs "map" $d) (get $d "dind") }}{{ $out = append $out (printf "deployments.%s.dind: Osprey runs script tasks without Docker" $name) }}{{ end }}
{{- if and (kindIs "map" $d) (get $d "jvm") }}{{ $out = append $out (printf "deployments.%s.jvm: Osprey is not a JVM" $name) }}{{ end }}
{{- end }}
{{- if .Values.deployments.indexer }}{{ $out = append $out "deployments.indexer: Osprey has no indexer (the executor keeps executions searchable)" }}{{ end }}
{{- join "\n" $out }}
{{- end }}
