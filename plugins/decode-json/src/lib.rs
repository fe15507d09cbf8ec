//! JSON decoder: any depth, duplicate keys kept, iterative
