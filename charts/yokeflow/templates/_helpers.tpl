{{/* The chart's name, shortened to a DNS label. */}}
{{- define "yokeflow.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The prefix of every object's name: <release>-yokeflow, or the release's name when it
already contains the chart's name. */}}
{{- define "yokeflow.fullname" -}}
{{- if .Values.fullNameOverride }}
{{- .Values.fullNameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "yokeflow.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "yokeflow.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: yokeflow
{{- end }}

{{/* Selector labels of one component: (dict "root" $ "component" "operator"). */}}
{{- define "yokeflow.selectorLabels" -}}
app.kubernetes.io/name: {{ include "yokeflow.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "yokeflow.operatorName" -}}
{{- printf "%s-operator" (include "yokeflow.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Cluster-scoped objects carry the namespace: one release per namespace never collide. */}}
{{- define "yokeflow.clusterRoleName" -}}
{{- printf "%s-%s" .Release.Namespace (include "yokeflow.operatorName" .) }}
{{- end }}

{{- define "yokeflow.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "yokeflow.operatorName" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "yokeflow.apiName" -}}
{{- printf "%s-api" (include "yokeflow.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "yokeflow.apiSecretName" -}}
{{- default (include "yokeflow.apiName" .) .Values.api.auth.existingSecret }}
{{- end }}

{{- define "yokeflow.postgresqlName" -}}
{{- printf "%s-postgresql" (include "yokeflow.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "yokeflow.postgresqlSecretName" -}}
{{- default (include "yokeflow.postgresqlName" .) .Values.postgresql.auth.existingSecret }}
{{- end }}

{{/* Whether the in-chart PostgreSQL runs: when no external database is named. */}}
{{- define "yokeflow.inChartPostgresql" -}}
{{- if not .Values.database.existingSecret }}true{{ end }}
{{- end }}

{{/* An image reference: (dict "image" .Values.image "root" $). */}}
{{- define "yokeflow.image" -}}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) }}
{{- end }}

{{/* The database URL (and the in-chart server's password, which asyncpg reads from
PGPASSWORD so that it never sits in a URL). */}}
{{- define "yokeflow.databaseEnv" -}}
{{- if .Values.database.existingSecret }}
- name: YOKEFLOW_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.existingSecret }}
      key: {{ .Values.database.urlKey }}
{{- else }}
- name: PGPASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "yokeflow.postgresqlSecretName" . }}
      key: {{ .Values.postgresql.auth.passwordKey }}
- name: YOKEFLOW_DATABASE_URL
  value: {{ printf "postgresql://%s@%s.%s.svc:5432/%s" .Values.postgresql.auth.username (include "yokeflow.postgresqlName" .) .Release.Namespace .Values.postgresql.auth.database | quote }}
{{- end }}
{{- end }}

{{/* What the operator's and the API's containers share: settings file, HOME, credentials. */}}
{{- define "yokeflow.appEnv" -}}
- name: HOME
  value: /tmp
{{- include "yokeflow.databaseEnv" . }}
{{- end }}

{{- define "yokeflow.appEnvFrom" -}}
{{- if .Values.modelCredentials.existingSecret }}
envFrom:
  - secretRef:
      name: {{ .Values.modelCredentials.existingSecret }}
{{- end }}
{{- end }}

{{- define "yokeflow.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "yokeflow.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end }}

{{/* The MCP task manager's URL as agent pods reach it: operator.mcpUrl, else the operator's
Service (none when config.operator.mcp_port is 0: a free port is picked per start). */}}
{{- define "yokeflow.mcpUrl" -}}
{{- if .Values.operator.mcpUrl }}
{{- .Values.operator.mcpUrl }}
{{- else if int .Values.config.operator.mcp_port }}
{{- printf "http://%s.%s.svc:%d" (include "yokeflow.operatorName" .) .Release.Namespace (int .Values.config.operator.mcp_port) }}
{{- end }}
{{- end }}
