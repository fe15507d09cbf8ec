//! XML and SOAP decoder: elements, attributes, CDATA, PIs; DOCTYPE and entities surfaced, never expanded
