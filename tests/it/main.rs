//! volctl's integration tests, one crate (one link) instead of one binary
//! per file. The LVM-in-a-VM test stays a binary of its own
//! (`tests/lvm_vm.rs`) so that it runs after these, alone on the machine.

mod cli_support;
mod support;

mod cli_attach;
mod cli_complete;
mod cli_concurrency;
mod cli_config;
mod cli_create;
mod cli_export;
mod cli_extend;
mod cli_image_create;
mod cli_images;
mod cli_interrupt;
mod cli_json;
mod cli_manage;
mod cli_migrate;
mod cli_reconcile;
mod cli_reschedule;
mod cli_resume;
mod cli_retention;
mod cli_retype;
mod cli_revert;
mod cli_safety;
mod cli_scripts;
mod cli_sizes;
mod cli_terminal;
mod cli_wipe;
mod csi;
mod deploy;
mod flow_engine;
mod flow_props;
mod flow_resume;
mod generated_docs;
mod tasks;
mod tasks_day1;
mod vm_modules;
