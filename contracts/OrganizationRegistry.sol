// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title OrganizationRegistry
/// @notice Maps each account of the SCR network to its organisation: name, VAT number, role and
///         RSA encryption public key (PEM, SPKI). Only the administrator registers and updates
///         organisations; an organisation rotates its own encryption key.
/// @dev VAT numbers are compared byte for byte; the gateway normalises them (trim, upper case)
///      before sending.
contract OrganizationRegistry {
    enum Role {
        None,
        Carrier,
        Forwarder,
        Transporter,
        Terminal,
        PortSystem
    }

    struct Organization {
        string name;
        string vat;
        Role role;
        string publicKey;
        bool registered;
    }

    /// @notice The caller is not the administrator.
    error NotAdmin(address caller);
    /// @notice The zero address cannot be an administrator or an organisation.
    error ZeroAddress();
    /// @notice `Role.None` cannot be given to an organisation.
    error InvalidRole(Role role);
    /// @notice The organisation name is empty.
    error EmptyName();
    /// @notice The VAT number is empty.
    error EmptyVat();
    /// @notice The account is already registered.
    error AccountAlreadyRegistered(address account);
    /// @notice The VAT number already belongs to another account.
    error VatAlreadyRegistered(string vat, address account);
    /// @notice The account is not a registered organisation.
    error OrganizationNotRegistered(address account);

    event AdminTransferred(address indexed previousAdmin, address indexed newAdmin);
    event OrganizationRegistered(address indexed account, string vat, uint8 role);
    event OrganizationUpdated(address indexed account);

    address public admin;

    mapping(address => Organization) private _organizations;
    mapping(bytes32 => address) private _accountByVatHash;
    address[] private _accounts;

    constructor() {
        admin = msg.sender;
        emit AdminTransferred(address(0), msg.sender);
    }

    modifier onlyAdmin() {
        if (msg.sender != admin) revert NotAdmin(msg.sender);
        _;
    }

    /// @notice Hands the administrator role to `newAdmin`.
    function transferAdmin(address newAdmin) external onlyAdmin {
        if (newAdmin == address(0)) revert ZeroAddress();
        emit AdminTransferred(admin, newAdmin);
        admin = newAdmin;
    }

    /// @notice Registers a new organisation (administrator only).
    function register(
        address account,
        string calldata name,
        string calldata vat,
        Role role,
        string calldata encryptionPublicKeyPem
    ) external onlyAdmin {
        if (account == address(0)) revert ZeroAddress();
        if (_organizations[account].registered) revert AccountAlreadyRegistered(account);
        _checkFields(name, vat, role);
        bytes32 vatHash = keccak256(bytes(vat));
        address holder = _accountByVatHash[vatHash];
        if (holder != address(0)) revert VatAlreadyRegistered(vat, holder);

        _organizations[account] = Organization({
            name: name,
            vat: vat,
            role: role,
            publicKey: encryptionPublicKeyPem,
            registered: true
        });
        _accountByVatHash[vatHash] = account;
        _accounts.push(account);
        emit OrganizationRegistered(account, vat, uint8(role));
    }

    /// @notice Replaces name, VAT number, role and key of a registered organisation (administrator only).
    function update(
        address account,
        string calldata name,
        string calldata vat,
        Role role,
        string calldata encryptionPublicKeyPem
    ) external onlyAdmin {
        Organization storage org = _organizations[account];
        if (!org.registered) revert OrganizationNotRegistered(account);
        _checkFields(name, vat, role);
        bytes32 newHash = keccak256(bytes(vat));
        bytes32 oldHash = keccak256(bytes(org.vat));
        if (newHash != oldHash) {
            address holder = _accountByVatHash[newHash];
            if (holder != address(0)) revert VatAlreadyRegistered(vat, holder);
            delete _accountByVatHash[oldHash];
            _accountByVatHash[newHash] = account;
            org.vat = vat;
        }
        org.name = name;
        org.role = role;
        org.publicKey = encryptionPublicKeyPem;
        emit OrganizationUpdated(account);
    }

    /// @notice Sets the caller's own encryption public key (PEM, SPKI).
    function setEncryptionKey(string calldata encryptionPublicKeyPem) external {
        Organization storage org = _organizations[msg.sender];
        if (!org.registered) revert OrganizationNotRegistered(msg.sender);
        org.publicKey = encryptionPublicKeyPem;
        emit OrganizationUpdated(msg.sender);
    }

    function getOrganization(address account) external view returns (Organization memory) {
        return _organizations[account];
    }

    /// @notice The account registered with `vat`, or the zero address.
    function accountByVat(string calldata vat) external view returns (address) {
        return _accountByVatHash[keccak256(bytes(vat))];
    }

    function isRegistered(address account) external view returns (bool) {
        return _organizations[account].registered;
    }

    /// @notice The role of `account`, `Role.None` when it is not registered.
    function roleOf(address account) external view returns (Role) {
        return _organizations[account].role;
    }

    function organizationCount() external view returns (uint256) {
        return _accounts.length;
    }

    function organizationAt(uint256 index) external view returns (address) {
        return _accounts[index];
    }

    function _checkFields(string calldata name, string calldata vat, Role role) private pure {
        if (bytes(name).length == 0) revert EmptyName();
        if (bytes(vat).length == 0) revert EmptyVat();
        if (role == Role.None) revert InvalidRole(role);
    }
}
