//! `harness render`: the Kubernetes objects a kube run would create.

use std::path::PathBuf;

use crate::cli::args::ImageArgs;
use crate::cli::exit;
use crate::cli::outcome::Failure;
use crate::cli::scenario::load_and_place;

/// `harness render FILE`: the objects on stdout, or in `<out>/<scenario>.yaml`.
pub(in crate::cli) fn render(
    scenario: &std::path::Path,
    out: Option<PathBuf>,
    pin: bool,
    images: &ImageArgs,
) -> Result<u8, Failure> {
    let (s, plan) = load_and_place(scenario, crate::placement::place)?;
    let run_id = crate::results::run_id(&s.name, chatter::now_ns());
    let images = images.images();
    let yaml = crate::backend::kube::objects::render(&plan, &run_id, &images, pin).map_err(Failure::backend)?;
    match out {
        None => print!("{yaml}"),
        Some(dir) => {
            let path = dir.join(format!("{}.yaml", s.name));
            std::fs::create_dir_all(&dir)
                .and_then(|()| std::fs::write(&path, yaml))
                .map_err(|e| Failure::backend(format!("{}: {e}", path.display())))?;
            println!("wrote {}", path.display());
        }
    }
    Ok(exit::OK)
}
