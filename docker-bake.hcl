# docker buildx bake            → every image for linux/amd64 and linux/arm64
# docker buildx bake talker     → one image
variable "REGISTRY" { default = "ghcr.io/chatter-harness" }
variable "TAG" { default = "dev" }

group "default" { targets = ["talker", "listener", "harness", "ros-talker", "ros-listener"] }

target "_common" {
  context   = "."
  platforms = ["linux/amd64", "linux/arm64"]
}

target "talker" {
  inherits   = ["_common"]
  dockerfile = "docker/Dockerfile"
  target     = "talker"
  tags       = ["${REGISTRY}/talker:${TAG}"]
}

target "listener" {
  inherits   = ["_common"]
  dockerfile = "docker/Dockerfile"
  target     = "listener"
  tags       = ["${REGISTRY}/listener:${TAG}"]
}

target "harness" {
  inherits   = ["_common"]
  dockerfile = "docker/Dockerfile"
  target     = "harness"
  tags       = ["${REGISTRY}/harness:${TAG}"]
}

target "ros-talker" {
  inherits   = ["_common"]
  dockerfile = "docker/ros.Dockerfile"
  target     = "talker"
  tags       = ["${REGISTRY}/ros-talker:${TAG}"]
}

target "ros-listener" {
  inherits   = ["_common"]
  dockerfile = "docker/ros.Dockerfile"
  target     = "listener"
  tags       = ["${REGISTRY}/ros-listener:${TAG}"]
}
