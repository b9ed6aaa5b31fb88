# `docker buildx bake -f images/docker-bake.hcl` from the repository root builds the wheel once
# and both images from that same wheel (the `wheel` named context).
variable "TAG" {
  default = "0.1.0"
}
variable "REGISTRY" {
  default = "ghcr.io/yokeflow"
}

group "default" {
  targets = ["operator", "agent"]
}

target "wheel" {
  context    = "."
  dockerfile = "images/wheel/Dockerfile"
  target     = "wheel"
}

target "operator" {
  context    = "."
  dockerfile = "images/operator/Dockerfile"
  contexts   = { wheel = "target:wheel" }
  tags       = ["${REGISTRY}/yokeflow-operator:${TAG}"]
}

target "agent" {
  context    = "."
  dockerfile = "images/agent/Dockerfile"
  contexts   = { wheel = "target:wheel" }
  tags       = ["${REGISTRY}/yokeflow-agent:${TAG}"]
}
