# volctl as a Nomad CSI plugin on every client node: one process serves the
# controller and node services ("monolith"), like the Kubernetes DaemonSet.
job "volctl-csi" {
  type = "system"

  group "node" {
    task "plugin" {
      driver = "raw_exec"

      config {
        command = "/usr/local/bin/volctl"
        args = [
          "csi", "serve",
          "--endpoint=unix:///csi/csi.sock",
          "--node-id=${node.unique.name}",
        ]
      }

      csi_plugin {
        id        = "csi.volctl.io"
        type      = "monolith"
        mount_dir = "/csi"
      }

      resources {
        cpu    = 100
        memory = 64
      }
    }
  }
}
