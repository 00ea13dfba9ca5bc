{{/*
Labels shared by every object of the release.
*/}}
{{- define "tfc-mcp.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tfc-mcp
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of the operator Pods. */}}
{{- define "tfc-mcp.operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Values.operator.name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "tfc-mcp.operator.labels" -}}
{{ include "tfc-mcp.labels" . }}
{{ include "tfc-mcp.operator.selectorLabels" . }}
app.kubernetes.io/component: operator
{{- end }}

{{/*
Selector labels of the gateway Pods: the operator creates those Pods with
exactly this selector (name + component) and adds gateway.yaml `podLabels`,
to which the chart also passes these labels. The PDB, NetworkPolicy and
metrics Service select on them.
*/}}
{{- define "tfc-mcp.gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ .Values.gateway.name }}
app.kubernetes.io/component: gateway
{{- end }}

{{- define "tfc-mcp.gateway.labels" -}}
{{ include "tfc-mcp.labels" . }}
{{ include "tfc-mcp.gateway.selectorLabels" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* image reference: repository[:tag][@digest], tag defaulting to appVersion. */}}
{{- define "tfc-mcp.image" -}}
{{- $ref := printf "%s:%s" .image.repository (.image.tag | default .root.Chart.AppVersion) -}}
{{- if .image.digest -}}{{- $ref = printf "%s@%s" $ref .image.digest -}}{{- end -}}
{{- $ref -}}
{{- end }}

{{/* Host part (no port) of gateway.publicBaseUrl. */}}
{{- define "tfc-mcp.publicHost" -}}
{{- (urlParse .Values.gateway.publicBaseUrl).hostname -}}
{{- end }}

{{/* Namespace of the leader-election Lease. */}}
{{- define "tfc-mcp.leaseNamespace" -}}
{{- .Values.operator.leaderElection.namespace | default .Release.Namespace -}}
{{- end }}

{{/*
The gateway configuration the operator reads (--gateway-config), as a YAML
document. Keys are camelCase; see the operator's configuration contract.
*/}}
{{- define "tfc-mcp.gatewayConfig" -}}
{{- $gw := .Values.gateway -}}
{{- $host := include "tfc-mcp.publicHost" . -}}
{{- $ingressHost := $gw.ingress.host | default $host -}}
{{- $allowedHosts := $gw.allowedHosts -}}
{{- if not $allowedHosts -}}
{{- $allowedHosts = list $host -}}
{{- if and $gw.ingress.enabled (ne $ingressHost $host) -}}{{- $allowedHosts = append $allowedHosts $ingressHost -}}{{- end -}}
{{- end -}}
{{- $podLabels := merge (dict) (include "tfc-mcp.gateway.selectorLabels" . | fromYaml) (dict "app.kubernetes.io/instance" .Release.Name "app.kubernetes.io/part-of" "tfc-mcp") $gw.podLabels -}}
{{- $cfg := dict
  "name" $gw.name
  "image" (include "tfc-mcp.image" (dict "image" $gw.image "root" .))
  "imagePullPolicy" $gw.image.pullPolicy
  "serviceAccountName" $gw.name
  "publicBaseUrl" .Values.gateway.publicBaseUrl
  "listenPort" $gw.listenPort
  "adminPort" $gw.adminPort
  "allowedHosts" $allowedHosts
  "allowedOrigins" $gw.allowedOrigins
  "allowedTfcAddresses" .Values.tfcAddresses.allowed
  "allowInsecureTfcAddresses" .Values.tfcAddresses.allowInsecure
  "deniedEgressCidrs" $gw.egress.deniedCidrs
  "allowedEgressAddresses" $gw.egress.allowedAddresses
  "allowedDownloadHosts" $gw.egress.allowedDownloadHosts
  "registry" $gw.registry
  "serviceAccountAuth" $gw.serviceAccountAuth
  "adminBindPodIp" $gw.adminBindPodIp
  "legacySse" $gw.legacySse
  "peerPacing" $gw.peerPacing.enabled
  "approvalKeySecret" (include "tfc-mcp.approvalKeySecret" .)
  "approvalClaims" $gw.approvalClaims
  "workerThreads" $gw.workerThreads
  "limits" $gw.limits
  "oidc" $gw.oidc
  "resources" $gw.resources
  "service" $gw.service
  "ingress" (dict "enabled" $gw.ingress.enabled "className" $gw.ingress.className "host" $ingressHost "tlsSecretName" $gw.ingress.tlsSecretName "annotations" $gw.ingress.annotations)
  "podLabels" $podLabels
  "podAnnotations" $gw.podAnnotations
  "nodeSelector" $gw.nodeSelector
  "tolerations" $gw.tolerations
  "affinity" $gw.affinity
-}}
{{- if not $gw.autoscaling.enabled -}}{{- $_ := set $cfg "replicas" $gw.replicas -}}{{- end -}}
{{- toYaml $cfg -}}
{{- end }}

{{/* The Secret holding the gateway's approval key. */}}
{{- define "tfc-mcp.approvalKeySecret" -}}
{{- .Values.gateway.approvalKey.existingSecret | default (printf "%s-approval-key" .Values.gateway.name) -}}
{{- end }}
