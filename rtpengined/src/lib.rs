//! rtpengined library (being written).
