//! The workbook: the learner's command-line companion and the checks that keep the course
//! honest. The binary (`src/main.rs`) is a thin layer over these modules.

pub mod grade;
pub mod manifest;
pub mod verify;
