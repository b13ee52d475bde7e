pub mod db;
pub mod distribution;
pub mod image;
pub mod shared;

pub use image::{
    index, layer, layer_with_level, random_layer, write_dir_layout, write_oci_layout, Blob, Image,
    ImageBuilder, Index, Layer, LayoutContent,
};
