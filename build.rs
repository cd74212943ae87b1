//! Generates the CSI gRPC services and messages from the spec's
//! `proto/csi.proto` (v1.12), with `protox`: a fresh machine needs no
//! `protoc`.

fn main() {
    println!("cargo:rerun-if-changed=proto/csi.proto");
    let fds = protox::compile(["csi.proto"], ["proto"]).expect("proto/csi.proto compiles");
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // The client (for tests) brings its own channel.
        .build_transport(false)
        .compile_fds(fds)
        .expect("CSI code generation");
}
