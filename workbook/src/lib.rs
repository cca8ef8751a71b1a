//! The workbook: the learner's command-line companion and the checks that keep the course
//! honest. The binary (`src/main.rs`) is a thin layer over these modules.

pub mod bench;
pub mod book;
pub mod class;
pub mod cli;
pub mod doctor;
pub mod failures;
pub mod grade;
pub mod learner;
pub mod manifest;
pub mod regions;
pub mod report;
pub mod shipped;
pub mod solution;
pub mod state;
pub mod ui;
pub mod verify;
pub mod watch;
