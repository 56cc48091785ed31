"""Record retention and destruction (PLAT-5): the rules and destruction requests (``models``),
retention dates, the destruction workflow with its signatures (``services``) and its pages and
approvers' My-work item (``views``)."""
